"""The measures councils report (Aims 1-3, stage delays, time to decision, forecast, run charts, PDSA cycles).

Rules are pure functions (aims, aim_results, aim_statuses, stage_delays, survival, forecast, run_charts, publication); the *_reads modules are the SQL that feeds them."""

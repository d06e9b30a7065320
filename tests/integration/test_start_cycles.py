"""An end event whose startsProcess leads back to its own process through the deployed
processes is refused by the check and at deploy, with the chain named, and nothing is
deployed (the diagram alone shows only a process starting itself; the check and the deploy
read the deployed versions it starts)."""
from __future__ import annotations

from sqlalchemy import func, select

from engine.models import ProcessModel

from .test_models_cli import PJ, bundle, cli, write  # noqa: F401 - the cli fixture

END = '<bpmn:endEvent id="order_granted" name="Order granted">'
STARTS_CSO_REVIEW = (END + '<bpmn:extensionElements><spiffworkflow:properties>'
                     '<spiffworkflow:property name="startsProcess" value="cso_home_review"/>'
                     '</spiffworkflow:properties></bpmn:extensionElements>')


def test_a_start_cycle_through_a_deployed_process_is_refused_by_check_and_deploy(cli, tmp_path):
    """The shipped CSO review loop ends by starting the permanence journey; a journey that
    ended by starting the review loop would start the two in turn for ever."""
    files = write(tmp_path / "pj", bundle(**{END: STARTS_CSO_REVIEW}))
    for command in (["check"], ["deploy", "--reason", "cycle", "--by", "owner"]):
        result = cli.invoke(args=["models", command[0], *files, *command[1:]])
        assert result.exit_code == 1, result.output
        assert "order_granted" in result.output
        assert "permanence_journey → cso_home_review → permanence_journey" in result.output
        assert "Remove the startsProcess property" in result.output
        assert "Traceback" not in result.output
    with cli.database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ProcessModel)
                              .where(ProcessModel.process_id == PJ)) == 1

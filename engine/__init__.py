"""Generic BPMN runtime over SpiffWorkflow.

Knows nothing of PACE or Flask: the domain layer (``workflows``) injects due-rule
semantics, role names and allow-lists, so another profile can reuse it unchanged.
"""

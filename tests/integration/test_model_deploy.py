"""Deploying diagrams: versions are immutable, bad diagrams are refused with nothing written."""
from datetime import date

import pytest
from sqlalchemy import func, select

from engine import clock, registry
from engine.models import ProcessModel
from workflows.children import records as children
from workflows.demo import scotland as demo
from workflows.engine_config import BPMN_DIR, pace_config


def _bundle(**replace) -> registry.ModelBundle:
    bundle = registry.ModelBundle.from_directory(BPMN_DIR / "permanence_journey")
    for old, new in replace.items():
        assert old in bundle.bpmn_xml
        bundle.bpmn_xml = bundle.bpmn_xml.replace(old, new)
    return bundle


def _versions(db) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(ProcessModel)
                              .where(ProcessModel.process_id == "permanence_journey"))


@pytest.mark.parametrize("old, new, element, words", [
    ("route in [", "route.__class__ in [", "", "attribute access"),
    ('value="LA_START+3d"', "value=\"__import__('os')\"", "planning_meeting", "due rule"),
    ('value="LA_START+3w"', 'value="len(LA_START)"', "initial_lar", "due rule"),
])
def test_unsafe_diagram_is_refused_at_deploy_naming_the_element(database, old, new, element, words):
    before = _versions(database)
    with pytest.raises(registry.InvalidModel) as err, database.transaction() as session:
        registry.deploy(session, _bundle(**{old: new}), pace_config().validation_context(), "owner")
    assert any(words in p.message and (p.element_id == element or not element)
               for p in err.value.problems), err.value.problems
    assert all(p.element_id for p in err.value.problems)
    assert _versions(database) == before


def test_changed_timescale_deploys_version_2_and_new_children_use_it(database):
    clock.set_now(date(2026, 1, 5))
    with database.transaction() as session:
        demo.ensure_users(session, actor="test")
        old_child = children.register_child(session, "V1", "Old", "north", "test")
        old = children.accommodate(session, database.runtime, old_child, date(2026, 1, 5), "test")
        model, created = registry.deploy(session, _bundle(**{'value="LA_START+3w"': 'value="LA_START+2w"'}),
                                         pace_config().validation_context(), "owner",
                                         reason="Midlothian two-week review")
        assert (created, model.version) == (True, 2)
        new_child = children.register_child(session, "V2", "New", "north", "test")
        new = children.accommodate(session, database.runtime, new_child, date(2026, 1, 5), "test")
        assert (old.model.version, new.model.version) == (1, 2)
        # the same content again is not a new version
        assert registry.deploy(session, _bundle(**{'value="LA_START+3w"': 'value="LA_START+2w"'}),
                               pace_config().validation_context(), "owner")[1] is False

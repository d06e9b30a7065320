"""Marshmallow schemas of /api/v1/teams, /api/v1/people and /api/v1/roles.

The conventions of schemas.py: every response field is documented as present (``_out``),
empty values say so, text inputs refuse NUL and broken Unicode; what else a field must be
(a known role, an open team, an unused username) is the service's check, reported per
field as 422 like the pages do.
"""
from __future__ import annotations

from marshmallow import Schema, fields

from .schemas import Text, UtcDateTime, _out


# -- teams ------------------------------------------------------------------------------------
class TeamSchema(Schema):
    code = _out(fields.String(metadata={"description": "Never changes; the caseload file's "
                                                       "team column"}))
    name = _out(fields.String())
    closed = _out(fields.Boolean())
    closed_at = _out(UtcDateTime(allow_none=True))
    people = _out(fields.Integer(metadata={"description": "Active people in the team"}))
    open_children = _out(fields.Integer(metadata={"description": "Children of the team with a "
                                                                 "running process"}))


class TeamListSchema(Schema):
    items = _out(fields.List(fields.Nested(TeamSchema)))


class NewTeamSchema(Schema):
    code = Text(required=True, max_length=40, single_line=True, metadata={
        "description": "Lower-case letters, digits, hyphens or underscores, e.g. north"})
    name = Text(required=True, max_length=200, single_line=True)


class TeamRenameSchema(Schema):
    name = Text(required=True, max_length=200, single_line=True)


# -- people -----------------------------------------------------------------------------------
class PersonSchema(Schema):
    id = _out(fields.Integer())
    username = _out(fields.String())
    display_name = _out(fields.String())
    email = _out(fields.String(allow_none=True))
    roles = _out(fields.List(fields.String()))
    team = _out(fields.String(allow_none=True, metadata={"description": "None: service-wide"}))
    active = _out(fields.Boolean())
    local_sign_in = _out(fields.Boolean(metadata={
        "description": "Has a local password; false: only the council's sign-in"}))
    created_at = _out(UtcDateTime())


class PersonListSchema(Schema):
    items = _out(fields.List(fields.Nested(PersonSchema)))


class PeopleArgs(Schema):
    role = Text(max_length=40, single_line=True, metadata={"description": "Only people holding this role"})
    team = Text(max_length=40, single_line=True, metadata={"description": "Only this team's people"})
    service_wide = fields.Boolean(load_default=False,
                                  metadata={"description": "Only people with no team"})
    active = fields.Boolean(load_default=None, allow_none=True,
                            metadata={"description": "true: active only; false: deactivated "
                                                     "only; absent: both"})


class NewPersonSchema(Schema):
    username = Text(required=True, max_length=80, single_line=True)
    display_name = Text(required=True, max_length=200, single_line=True)
    email = Text(load_default=None, allow_none=True, max_length=200, single_line=True)
    roles = fields.List(Text(max_length=40), required=True,
                        metadata={"description": "One or more role codes (GET /api/v1/roles)"})
    team = Text(load_default=None, allow_none=True, max_length=40,
                metadata={"description": "Team code; null for service-wide roles"})
    password = Text(load_default=None, allow_none=True, max_length=200, load_only=True,
                    metadata={"description": "A first password for local sign-in; null: none "
                                             "(the council's sign-in)"})


class PersonChangeSchema(Schema):
    """Only the fields sent are changed."""
    display_name = Text(max_length=200, single_line=True)
    email = Text(allow_none=True, max_length=200, single_line=True,
                 metadata={"description": "null removes it"})
    roles = fields.List(Text(max_length=40), metadata={"description": "The roles held from now"})
    team = Text(allow_none=True, max_length=40, metadata={"description": "null: service-wide"})


class PasswordSchema(Schema):
    password = Text(required=True, allow_none=True, max_length=200, load_only=True,
                    metadata={"description": "The new local password; null removes it (only "
                                             "the council's sign-in)"})


class HandoverSchema(Schema):
    person = _out(fields.Nested(PersonSchema))
    changed = _out(fields.List(fields.String(), metadata={"description": "Fields changed"}))
    returned_tasks = _out(fields.List(fields.Integer(), metadata={
        "description": "Work items put back in their team queue (ids)"}))
    told = _out(fields.List(fields.String(), metadata={
        "description": "Usernames of the team leaders told"}))


# -- roles ------------------------------------------------------------------------------------
class HolderSchema(Schema):
    username = _out(fields.String())
    display_name = _out(fields.String())
    team = _out(fields.String(allow_none=True))
    active = _out(fields.Boolean())


class RoleHoldersSchema(Schema):
    code = _out(fields.String())
    label = _out(fields.String())
    in_use = _out(fields.Boolean(metadata={"description": "A role of an enabled profile"}))
    people = _out(fields.List(fields.Nested(HolderSchema)))


class RoleListSchema(Schema):
    items = _out(fields.List(fields.Nested(RoleHoldersSchema)))

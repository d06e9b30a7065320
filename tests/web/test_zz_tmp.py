import pytest
from tests.web.api_client import api
@pytest.mark.parametrize("world", ["postgres"], indirect=True)
def test_x(world):
    c = api(world, "manager")
    item = world.tasks["north"]
    for path, body in ((f"/api/v1/work-items/{item}/draft", '{"data": {"solicitor": NaN}}'),
                       (f"/api/v1/work-items/{item}/draft", '{"data": {"solicitor": [1e999]}}'),
                       (f"/api/v1/work-items/{item}/draft", '{"data": {"solicitor": 99999999999999999999999999999}}'),
                       ("/api/v1/children?q=%00", None), ("/api/v1/queues/team?child=%00", None),
                       ("/api/v1/measures/aims?on=0001-01-01", None), ("/api/v1/measures/aims?on=9999-12-31", None),
                       ):
        method = "PUT" if path.endswith("draft") else "GET"
        r = c.open(method, path, data=body, headers={"Content-Type": "application/json"} if body else {})
        print(path, r.status_code, r.get_data(as_text=True)[:150])

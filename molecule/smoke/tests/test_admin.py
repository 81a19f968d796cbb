"""The admin host runs the unit the converge installed."""

testinfra_hosts = ['ansible://admin']


def test_smoke_unit_is_active_and_enabled(host):
    unit = host.service('lab-smoke.service')
    assert unit.is_running
    assert unit.is_enabled

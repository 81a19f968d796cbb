"""From node1 the admin host answers, and nothing beyond the lab network does."""

testinfra_hosts = ['ansible://node1']

ADMIN = '10.231.8.10'
# A documentation address, and one like the controller's own uplink: both outside the lab.
OUTSIDE = ['203.0.113.1', '192.0.2.2']


def connect(host, address, port):
    """errno name of a TCP connect from the host, or 'OK' when it connects."""
    script = ('import socket, errno; s = socket.socket(); s.settimeout(3); '
              'r = s.connect_ex(("%s", %d)); print(errno.errorcode.get(r, "OK"))' % (address, port))
    return host.run("python3 -c '%s'" % script).stdout.strip()


def test_admin_answers(host):
    assert connect(host, ADMIN, 8080) == 'OK'


def test_the_only_route_is_the_lab_network(host):
    assert host.run('ip route show').stdout.strip().splitlines() == \
        ['10.231.8.0/24 dev host0 proto kernel scope link src 10.231.8.11']


def test_nothing_beyond_the_lab_is_reachable(host):
    for address in OUTSIDE:
        # No route: the kernel refuses at once, and no packet leaves the host.
        assert host.run('ip route get %s' % address).rc != 0
        assert connect(host, address, 80) == 'ENETUNREACH'

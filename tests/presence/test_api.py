"""Presence through the HTTP API of a real server: the settings, the heartbeat endpoints of
both faces, seq, stream keys, and timeouts, reconnects and idle ends in real time (with
windows of a second or two)."""
import datetime
import time
import unittest

from harness import now_ms, parse_time, server, wait_for

DEFAULTS = {'timeoutSeconds': 60, 'reconnectWindowSeconds': 10, 'idleSessionSeconds': 300,
            'manageServerSide': False}


class Settings(unittest.TestCase):
    def test_defaults_patch_and_validation(self):
        srv = server()
        app = srv.new_app()
        r = srv.admin('GET', '/applications/' + app.id)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()['presence'], DEFAULTS)

        r = srv.admin('PATCH', '/applications/' + app.id,
                      {'presence': {'timeoutSeconds': 5, 'manageServerSide': True}})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()['presence'], dict(DEFAULTS, timeoutSeconds=5,
                                                    manageServerSide=True))
        self.assertEqual(r.json()['status'], 'N')
        r = srv.admin('PATCH', '/applications/' + app.id,
                      {'status': 'P', 'presence': {'idleSessionSeconds': 0}})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()['status'], 'P')
        self.assertEqual(r.json()['presence']['idleSessionSeconds'], 0)
        self.assertEqual(r.json()['presence']['timeoutSeconds'], 5)  # kept

        for bad in [{'timeoutSeconds': 0}, {'timeoutSeconds': 3601}, {'timeoutSeconds': '5'},
                    {'timeoutSeconds': 1.5}, {'reconnectWindowSeconds': -1},
                    {'reconnectWindowSeconds': 301}, {'idleSessionSeconds': 86401},
                    {'manageServerSide': 'yes'}, {'timeout': 5}]:
            r = srv.admin('PATCH', '/applications/' + app.id, {'presence': bad})
            self.assertEqual(r.status_code, 400, bad)
            self.assertEqual(r.json()['code'], 'BAD_REQUEST')
        for bad in [{'presence': 5}, {'presence': []}, {}]:
            self.assertEqual(srv.admin('PATCH', '/applications/' + app.id, bad).status_code, 400)
        # Nothing of the refused patches was applied.
        r = srv.admin('GET', '/applications/' + app.id)
        self.assertEqual(r.json()['presence'], dict(DEFAULTS, timeoutSeconds=5,
                                                    manageServerSide=True, idleSessionSeconds=0))
        self.assertEqual(srv.admin('DELETE', '/applications/' + app.id).status_code, 200)
        r = srv.admin('PATCH', '/applications/' + app.id, {'presence': {'timeoutSeconds': 9}})
        self.assertEqual(r.status_code, 409)
        self.assertEqual(r.json()['code'], 'APPLICATION_CAN_NOT_MODIFY')


class Endpoints(unittest.TestCase):
    def test_instream_heartbeat_and_seq(self):
        app = server().new_app()
        sid = app.instream('POST', '/applications/sessions').json()['sessionId']
        base = '/applications/sessions/%s/participants/' % sid
        r = app.instream('POST', base + 'heartbeat', {'participantId': 'nobody'})
        self.assertEqual(r.status_code, 404)
        self.assertEqual(r.json()['code'], 'PARTICIPANT_JOIN_NOT_FOUND')
        r = app.instream('POST', base + 'enter', {'participantId': 'u1', 'nickname': 'U', 'seq': 1})
        self.assertEqual(r.status_code, 201, r.text)
        visit = r.json()['participantSessionId']
        r = app.instream('POST', base + 'heartbeat', {'participantId': 'u1', 'seq': 2})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()['participantSessionId'], visit)
        self.assertIsNone(r.json()['deletedAt'])
        for bad in ['2', -1, 1.5, True]:
            r = app.instream('POST', base + 'leave', {'participantId': 'u1', 'seq': bad})
            self.assertEqual(r.status_code, 400, bad)
        self.assertEqual(app.instream('POST', base + 'heartbeat', {}).status_code, 400)
        # A leave older than the heartbeat already applied changes nothing.
        r = app.instream('POST', base + 'leave', {'participantId': 'u1', 'seq': 2})
        self.assertEqual(r.status_code, 200)
        self.assertIsNone(r.json()['deletedAt'])
        r = app.instream('POST', base + 'leave', {'participantId': 'u1', 'seq': 3})
        self.assertIsNotNone(r.json()['deletedAt'])
        r = app.instream('POST', base + 'heartbeat', {'participantId': 'u1'})
        self.assertEqual(r.status_code, 200)
        self.assertIsNotNone(r.json()['deletedAt'])  # not inside: enter again

    def test_stage_heartbeat_and_stream_key(self):
        srv = server()
        app = srv.new_app()
        tok = app.token('hb')
        r = srv.stage(tok['token'], 'heartbeat')
        self.assertEqual(r.status_code, 404)
        self.assertEqual(r.json()['code'], 'PARTICIPANT_JOIN_NOT_FOUND')
        self.assertEqual(srv.stage('not-a-token', 'heartbeat').status_code, 401)
        r = srv.stage(tok['token'], 'join', {'seq': 10})
        self.assertEqual(r.status_code, 200, r.text)
        r = srv.stage(tok['token'], 'heartbeat', {'seq': 11})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()['state'], 'CONNECTED')
        self.assertEqual(srv.stage(tok['token'], 'heartbeat', {'seq': 'x'}).status_code, 400)
        r = srv.stage(tok['token'], 'leave', {'seq': 9})  # older than the heartbeat: ignored
        self.assertEqual(r.json()['state'], 'CONNECTED')
        r = srv.stage(tok['token'], 'leave', {'seq': 12})
        self.assertEqual(r.json()['state'], 'DISCONNECTED')

        r = srv.stage(tok['token'], 'stream-key')
        self.assertEqual(r.status_code, 200, r.text)
        key = r.json()
        self.assertRegex(key['streamKey'], '^[0-9a-f]{40}$')
        self.assertEqual(key['participantId'], tok['participantId'])
        self.assertEqual(key['stageArn'], app.arn)
        self.assertEqual(key['expirationTime'],
                         tok['expirationTime'].astimezone(datetime.timezone.utc)
                         .strftime('%Y-%m-%dT%H:%M:%S.000Z'))
        self.assertEqual(srv.stage(tok['token'], 'stream-key').json(), key)
        self.assertEqual(srv.stage('x.y.z', 'stream-key').status_code, 401)

    def test_rtmp_notify_answers(self):
        import requests
        srv = server()
        url = srv.url + '/v1/rtmp/notify'
        form = {'call': 'publish', 'app': 'live', 'name': 'abc', 'addr': '127.0.0.1',
                'clientid': '1', 'type': 'live'}
        r = requests.post(url, data=form)
        self.assertEqual(r.status_code, 401)
        r = requests.post(url, data=dict(form, key='0' * 40))
        self.assertEqual(r.status_code, 401)
        self.assertEqual(r.json()['code'], 'UNAUTHORIZED')
        r = requests.post(url, data={'call': 'connect', 'app': 'live'})
        self.assertEqual(r.status_code, 200)
        app = srv.new_app()
        viewer = app.token('v', ['SUBSCRIBE'])
        key = srv.stage(viewer['token'], 'stream-key').json()['streamKey']
        r = requests.post(url, data=dict(form, name=viewer['participantId'], key=key))
        self.assertEqual(r.status_code, 403)  # a viewer's key cannot publish


class RealTime(unittest.TestCase):
    """Timeouts, reconnects and idle ends through the real server's reaper, with windows of a
    second or two."""

    def test_a_silent_client_times_out_at_its_last_heartbeat(self):
        srv = server()
        app = srv.new_app(timeoutSeconds=1, idleSessionSeconds=60)
        tok = app.token('silent')
        pid = tok['participantId']
        sid = srv.stage(tok['token'], 'join').json()['sessionId']
        for _ in range(4):  # heartbeats keep it inside past its timeout
            time.sleep(0.4)
            before = now_ms()
            r = srv.stage(tok['token'], 'heartbeat')
            after = now_ms()
            self.assertEqual(r.json()['state'], 'CONNECTED')
        wait_for('the timeout', lambda: app.participant(sid, pid)['state'] == 'DISCONNECTED',
                 timeout=5)
        left = app.events(sid, pid)[-1]
        self.assertEqual(left['name'], 'LEFT')
        self.assertEqual(left['reason'], 'TIMEOUT')
        self.assertTrue(before <= parse_time(left['eventTime']) <= after,
                        (before, left['eventTime'], after))
        visits = app.instream('GET', '/applications/sessions/%s/participants' %
                              self.uuid(app, sid)).json()['data']
        self.assertEqual(visits[0]['deletedAt'], left['eventTime'])

    def test_a_rejoin_within_the_window_continues_the_visit(self):
        srv = server()
        app = srv.new_app(reconnectWindowSeconds=2)
        tok = app.token('flappy')
        sid = srv.stage(tok['token'], 'join').json()['sessionId']
        for _ in range(3):
            self.assertEqual(srv.stage(tok['token'], 'leave').json()['state'], 'DISCONNECTED')
            self.assertEqual(srv.stage(tok['token'], 'join').json()['state'], 'CONNECTED')
        session = app.instream('GET', '/applications/sessions/' + self.uuid(app, sid)).json()
        self.assertEqual(session['visitCount'], 1)
        self.assertEqual(session['participantCount'], 1)
        names = [(e['name'], e.get('reason')) for e in app.events(sid, tok['participantId'])]
        self.assertEqual(names, [('JOINED', None)] + [('LEFT', None),
                                                       ('JOINED', 'RECONNECTED')] * 3)
        srv.stage(tok['token'], 'leave')
        time.sleep(2.2)
        srv.stage(tok['token'], 'join')
        session = app.instream('GET', '/applications/sessions/' + self.uuid(app, sid)).json()
        self.assertEqual(session['visitCount'], 2)

    def test_an_implicit_session_ends_after_its_idle_window(self):
        srv = server()
        app = srv.new_app(idleSessionSeconds=1)
        tok = app.token('lonely')
        sid = srv.stage(tok['token'], 'join').json()['sessionId']
        r = srv.stage(tok['token'], 'leave')
        left = app.events(sid, tok['participantId'])[-1]
        self.assertEqual(left['name'], 'LEFT')
        ended = wait_for('the idle end', lambda: app.stage_session(sid).get('endTime'), timeout=5)
        self.assertEqual(parse_time(ended), parse_time(left['eventTime']) + 1000)
        self.assertIsNone(app.active_session())
        self.assertNotEqual(srv.stage(tok['token'], 'join').json()['sessionId'], sid)
        self.assertEqual(r.status_code, 200)

    def test_server_side_presence_is_timed_only_when_managed(self):
        srv = server()
        app = srv.new_app(timeoutSeconds=1)
        sid = app.instream('POST', '/applications/sessions').json()['sessionId']
        base = '/applications/sessions/%s/participants/' % sid
        app.instream('POST', base + 'enter', {'participantId': 'kept', 'nickname': 'K'})
        app.instream('POST', base + 'enter', {'participantId': 'beating', 'nickname': 'B'})
        app.instream('POST', base + 'heartbeat', {'participantId': 'beating'})
        wait_for('the heartbeating one to time out', lambda: app.instream(
            'GET', '/applications/sessions/' + sid).json()['participantCount'] == 1, timeout=5)
        time.sleep(1.2)
        self.assertEqual(app.instream('GET', '/applications/sessions/' + sid)
                         .json()['participantCount'], 1)
        app.configure(manageServerSide=True)
        wait_for('the managed one to time out', lambda: app.instream(
            'GET', '/applications/sessions/' + sid).json()['participantCount'] == 0, timeout=5)

    @staticmethod
    def uuid(app, stage_session_id):
        for s in app.instream('GET', '/applications/sessions?size=100').json()['data']:
            if s['stageSessionId'] == stage_session_id:
                return s['sessionId']
        raise AssertionError('no session ' + stage_session_id)

"""Real media servers: nginx with the Debian RTMP module calls rollcall's callbacks while ffmpeg
publishes a generated test pattern to a stage and a second ffmpeg plays it (docs/nginx-rtmp.md).
"""
import os
import shutil
import time
import unittest

from harness import (RTMP_MODULE, Nginx, parse_time, play, publish, server, wait_for)


def stream_key(srv, token):
    r = srv.stage(token['token'], 'stream-key')
    assert r.status_code == 200, r.text
    return r.json()['streamKey']


class Rtmp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        missing = [t for t in ('nginx', 'ffmpeg') if shutil.which(t) is None]
        if not os.path.exists(RTMP_MODULE):
            missing.append(RTMP_MODULE + ' (libnginx-mod-rtmp)')
        if missing:
            raise AssertionError('missing %s: run scripts/install-deps' % ', '.join(missing))

    def start_nginx(self):
        nginx = Nginx(server().url, update_seconds=1).start()
        self.addCleanup(lambda: nginx.stop())
        return nginx

    def run_ffmpeg(self, proc):
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        return proc

    def test_a_publisher_and_a_viewer_come_and_go(self):
        srv = server()
        app = srv.new_app()
        nginx = self.start_nginx()
        pub = app.token('broadcaster', ['PUBLISH'])
        view = app.token('watcher', ['SUBSCRIBE'])
        pid, vid = pub['participantId'], view['participantId']
        stream = '%s/%s' % (nginx.url, pid)

        publisher = self.run_ffmpeg(publish(stream + '?key=' + stream_key(srv, pub), 6))
        sid = wait_for('the publisher to join', app.active_session)
        p = wait_for('the publisher to be connected', lambda: self.connected(app, sid, pid))
        self.assertTrue(p['published'])
        self.assertEqual(p['protocol'], 'RTMP')
        self.assertEqual(p['userId'], 'broadcaster')
        self.assertEqual(p['recordingState'], 'ACTIVE')  # nginx records: on_publish ?record=on

        viewer = self.run_ffmpeg(play(stream + '?key=' + stream_key(srv, view), 2))
        v = wait_for('the viewer to be connected', lambda: self.connected(app, sid, vid))
        self.assertEqual(v['protocol'], 'RTMP')
        self.assertFalse(v['published'])
        self.assertEqual(app.participant(sid, pid)['state'], 'CONNECTED')

        self.assertEqual(viewer.wait(timeout=20), 0, viewer.stderr.read().decode())
        wait_for('the viewer to leave',
                 lambda: app.participant(sid, vid)['state'] == 'DISCONNECTED')
        self.assertEqual(app.participant(sid, pid)['state'], 'CONNECTED')
        self.assertEqual(publisher.wait(timeout=20), 0, publisher.stderr.read().decode())
        wait_for('the publisher to leave',
                 lambda: app.participant(sid, pid)['state'] == 'DISCONNECTED')
        wait_for('the recording to stop',
                 lambda: app.participant(sid, pid)['recordingState'] == 'STOPPED')
        self.assertTrue(os.listdir(nginx.records))

        p = app.participant(sid, pid)
        self.assertTrue(p['published'])
        self.assertEqual(p['protocol'], 'RTMP')
        pe = app.events(sid, pid)
        ve = app.events(sid, vid)
        self.assertEqual([e['name'] for e in pe],
                         ['JOINED', 'PUBLISH_STARTED', 'PUBLISH_STOPPED', 'LEFT'])
        self.assertEqual([e['name'] for e in ve],
                         ['JOINED', 'SUBSCRIBE_STARTED', 'SUBSCRIBE_STOPPED', 'LEFT'])
        self.assertEqual(ve[1]['remoteParticipantId'], pid)
        times = lambda events: [parse_time(e['eventTime']) for e in events]
        self.assertEqual(times(pe), sorted(times(pe)))
        self.assertEqual(times(ve), sorted(times(ve)))
        # The viewer was inside while the publisher was.
        self.assertLess(times(pe)[0], times(ve)[0])
        self.assertLess(times(ve)[-1], times(pe)[-1])

        # The In-Stream face shows the same two visits, closed.
        sessions = app.instream('GET', '/applications/sessions').json()['data']
        uuid = [s['sessionId'] for s in sessions if s['stageSessionId'] == sid][0]
        rows = app.instream('GET', '/applications/sessions/%s/participants?option=ASC' %
                            uuid).json()['data']
        self.assertEqual([(r['participant']['participantId'], r['participant']['nickname'])
                          for r in rows], [(pid, 'broadcaster'), (vid, 'watcher')])
        self.assertTrue(all(r['deletedAt'] for r in rows))

    def test_a_crashed_media_server_times_its_participants_out(self):
        srv = server()
        app = srv.new_app(timeoutSeconds=2)
        nginx = self.start_nginx()
        pub = app.token('crash', ['PUBLISH'])
        pid = pub['participantId']
        self.run_ffmpeg(publish('%s/%s?key=%s' % (nginx.url, pid, stream_key(srv, pub)), 30))
        sid = wait_for('the publisher to join', app.active_session)
        wait_for('the publisher to be connected', lambda: self.connected(app, sid, pid))
        time.sleep(1.6)  # nginx sends an update (a heartbeat) every second
        nginx.kill()
        killed = int(time.time() * 1000)
        wait_for('the timeout', lambda: app.participant(sid, pid)['state'] == 'DISCONNECTED',
                 timeout=6)
        left = app.events(sid, pid)[-1]
        self.assertEqual((left['name'], left['reason']), ('LEFT', 'TIMEOUT'))
        # It left when nginx last vouched for it, not when the reaper noticed.
        self.assertLessEqual(parse_time(left['eventTime']), killed)
        self.assertGreater(parse_time(left['eventTime']), killed - 1500)

    def test_a_publish_without_a_valid_key_is_refused(self):
        srv = server()
        app = srv.new_app()
        nginx = self.start_nginx()
        pub = app.token('intruder', ['PUBLISH'])
        proc = self.run_ffmpeg(publish('%s/%s?key=%s' % (nginx.url, pub['participantId'],
                                                          '0' * 40), 5))
        self.assertNotEqual(proc.wait(timeout=15), 0)
        self.assertIsNone(app.active_session())

    @staticmethod
    def connected(app, sid, participant_id):
        """The participant when it is connected, else None (also before it ever joined)."""
        try:
            p = app.participant(sid, participant_id)
        except AssertionError:
            return None
        return p if p['state'] == 'CONNECTED' else None

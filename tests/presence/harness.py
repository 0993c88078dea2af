"""Real servers for the presence end-to-end tests: `rollcall serve` (its own port, temp SQLite
store, a fast reaper), and nginx with the RTMP module fed by ffmpeg.

run.py starts one rollcall for the whole suite; every test makes its own applications (stages)
with the presence settings it needs, so tests do not depend on each other.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import boto3
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import e2e_server  # noqa: E402

REGION = 'us-east-1'
RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so'
_SERVER = None


def server():
    return _SERVER


free_port = e2e_server.free_port


def wait_for(what, predicate, timeout=10.0, interval=0.05):
    """Polls predicate() until it returns a true value, which is returned; fails after timeout."""
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError('timed out waiting for ' + what)
        time.sleep(interval)


def parse_time(text):
    """RFC 3339 with milliseconds and Z -> milliseconds since the epoch."""
    import datetime
    t = datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%S.%fZ')
    return int(t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000 + 0.5)


def now_ms():
    return int(time.time() * 1000)


class App:
    """A LIVE application (= stage) of the suite's tenant, with its ApiKey."""

    def __init__(self, server, created):
        self.server = server
        self.id = created['applicationId']
        self.api_key = created['apiKey']
        self.arn = created['stageArn']

    def configure(self, **presence):
        r = self.server.admin('PATCH', '/applications/' + self.id, {'presence': presence})
        assert r.status_code == 200, r.text
        return r.json()

    def token(self, user_id, capabilities=('PUBLISH', 'SUBSCRIBE')):
        return self.server.ivs.create_participant_token(
            stageArn=self.arn, userId=user_id, capabilities=list(capabilities))['participantToken']

    def instream(self, method, path, body=None):
        return requests.request(method, self.server.url + '/v1' + path, json=body,
                                headers={'ApiKey': self.api_key}, timeout=10)

    # IVS reads as raw JSON: times as sent, and rollcall's extra members (an event's reason),
    # which botocore would drop.

    def participant(self, session_id, participant_id):
        return self.server.operation('GetParticipant', {
            'stageArn': self.arn, 'sessionId': session_id,
            'participantId': participant_id})['participant']

    def events(self, session_id, participant_id):
        return self.server.operation('ListParticipantEvents', {
            'stageArn': self.arn, 'sessionId': session_id,
            'participantId': participant_id})['events']

    def active_session(self):
        return self.server.operation('GetStage', {'arn': self.arn})['stage'].get(
            'activeSessionId')

    def stage_session(self, session_id):
        return self.server.operation('GetStageSession', {
            'stageArn': self.arn, 'sessionId': session_id})['stageSession']


class Server(e2e_server.RollcallServer):
    """The suite's server, with a fast reaper; `ivs` is a boto3 client of its tenant."""

    def __init__(self, binary, database=None):
        super().__init__(binary, database, name='presence',
                         extra_args=['--reaper-interval-ms', '50'])
        self.ivs = None

    def start(self):
        global _SERVER
        super().start()
        self.ivs = boto3.client(
            'ivs-realtime', endpoint_url=self.url, region_name=REGION,
            aws_access_key_id=self.creds['accessKeyId'],
            aws_secret_access_key=self.creds['secretAccessKey'],
            config=Config(retries={'max_attempts': 1, 'mode': 'standard'}))
        _SERVER = self
        return self

    def operation(self, name, body):
        """An IVS operation signed with SigV4 as botocore signs it; the parsed JSON answer."""
        data = json.dumps(body).encode()
        req = AWSRequest(method='POST', url=self.url + '/' + name, data=data,
                         headers={'Content-Type': 'application/x-amz-json-1.1'})
        SigV4Auth(Credentials(self.creds['accessKeyId'], self.creds['secretAccessKey']), 'ivs',
                  REGION).add_auth(req)
        prepared = req.prepare()
        r = requests.post(prepared.url, data=data, headers=dict(prepared.headers), timeout=10)
        assert r.status_code == 200, (name, r.status_code, r.text)
        return r.json()

    def admin(self, method, path, body=None):
        return requests.request(method, self.url + '/v1' + path, json=body, timeout=10,
                                headers={'Authorization': 'Bearer ' + self.creds['adminToken']})

    def new_app(self, **presence):
        r = self.admin('POST', '/applications', {'type': 'LIVE'})
        assert r.status_code == 201, r.text
        app = App(self, r.json())
        if presence:
            app.configure(**presence)
        return app

    def stage(self, token, action, body=None):
        """POST /v1/stage/<action> with a participant token."""
        return requests.post(self.url + '/v1/stage/' + action, json=body or {}, timeout=10,
                             headers={'Authorization': 'Bearer ' + token})


class Nginx:
    """nginx with the RTMP module on a free port, its callbacks pointed at rollcall: the
    configuration of docs/nginx-rtmp.md in a temp directory, one process, in the foreground."""

    def __init__(self, rollcall_url, update_seconds=1):
        self.dir = tempfile.mkdtemp(prefix='rollcall-nginx-')
        self.port = free_port()
        self.url = 'rtmp://127.0.0.1:%d/live' % self.port
        self.records = os.path.join(self.dir, 'recordings')
        os.makedirs(self.records)
        notify = rollcall_url + '/v1/rtmp/notify'
        conf = '''daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
load_module {module};
events {{ worker_connections 64; }}
rtmp {{
  server {{
    listen 127.0.0.1:{port};
    application live {{
      live on;
      record all;
      record_path {records};
      on_publish {notify}?record=on;
      on_publish_done {notify};
      on_play {notify};
      on_play_done {notify};
      on_update {notify};
      notify_update_timeout {update}s;
      on_record_done {notify};
    }}
  }}
}}
'''.format(dir=self.dir, module=RTMP_MODULE, port=self.port, records=self.records,
           notify=notify, update=update_seconds)
        self.conf = os.path.join(self.dir, 'nginx.conf')
        with open(self.conf, 'w') as f:
            f.write(conf)
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ['nginx', '-p', self.dir, '-c', self.conf, '-e', os.path.join(self.dir, 'error.log')],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while True:
            try:
                with socket.create_connection(('127.0.0.1', self.port), timeout=0.5):
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError('nginx did not start: ' + self.error_log())
            time.sleep(0.05)

    def kill(self):
        """Kills nginx at once (no callbacks are sent), as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def error_log(self):
        try:
            with open(os.path.join(self.dir, 'error.log')) as f:
                return f.read()[-4000:]
        except OSError:
            return ''


def publish(rtmp_url, seconds):
    """ffmpeg publishing `seconds` of a generated test pattern and tone in real time."""
    return subprocess.Popen(
        ['ffmpeg', '-hide_banner', '-nostdin', '-loglevel', 'error', '-re',
         '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10',
         '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
         '-t', str(seconds), '-c:v', 'flv1', '-c:a', 'aac', '-f', 'flv', rtmp_url],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def play(rtmp_url, seconds):
    """ffmpeg playing `seconds` of a stream (probing kept short: the stream is live)."""
    return subprocess.Popen(
        ['ffmpeg', '-hide_banner', '-nostdin', '-loglevel', 'error', '-analyzeduration', '500000',
         '-probesize', '32768', '-i', rtmp_url, '-t', str(seconds), '-f', 'null', '-'],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

"""A real `rollcall serve` for the IVS end-to-end tests, with boto3 and aws CLI helpers.

run.py starts one server for the whole suite (Server.start) and every test module reaches it
through `server()`. Each test makes its own stages, so tests do not depend on each other.
"""
import json
import os
import subprocess
import sys
import urllib.parse

import boto3
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import e2e_server  # noqa: E402

REGION = 'us-east-1'
_SERVER = None


class Tenant:
    """One tenant's credentials: the IVS access key pair, the admin token, an ApiKey."""

    def __init__(self, server, creds):
        self.server = server
        self.account_id = creds['accountId']
        self.access_key_id = creds['accessKeyId']
        self.secret_access_key = creds['secretAccessKey']
        self.admin_token = creds['adminToken']
        self.api_key = creds.get('apiKey')
        self.stage_arn = creds.get('stageArn')

    def client(self, retries=1, **kwargs):
        """A boto3 client of this tenant; botocore's retries off unless `retries` > 1."""
        config = kwargs.pop('config', Config(retries={'max_attempts': retries, 'mode': 'standard'}))
        return boto3.client(
            'ivs-realtime', endpoint_url=self.server.url, region_name=kwargs.pop('region', REGION),
            aws_access_key_id=kwargs.pop('access_key', self.access_key_id),
            aws_secret_access_key=kwargs.pop('secret', self.secret_access_key),
            config=config, **kwargs)

    def cli(self, *args, check=True):
        """Runs `aws ivs-realtime ARGS`; returns (exit code, parsed JSON or stderr text)."""
        env = dict(os.environ)
        env.update({'AWS_ACCESS_KEY_ID': self.access_key_id,
                    'AWS_SECRET_ACCESS_KEY': self.secret_access_key,
                    'AWS_DEFAULT_REGION': REGION,
                    'AWS_CONFIG_FILE': os.devnull,
                    'AWS_SHARED_CREDENTIALS_FILE': os.devnull,
                    'AWS_MAX_ATTEMPTS': '1'})
        env.pop('AWS_PROFILE', None)
        env.pop('AWS_SESSION_TOKEN', None)
        proc = subprocess.run(
            ['aws', 'ivs-realtime', *args, '--endpoint-url', self.server.url, '--output', 'json'],
            env=env, capture_output=True, text=True, timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError('aws %s failed (%d): %s' % (' '.join(args), proc.returncode,
                                                             proc.stderr))
        if proc.returncode == 0:
            return 0, json.loads(proc.stdout) if proc.stdout.strip() else {}
        return proc.returncode, proc.stderr

    def signed(self, method, path, body=b'', headers=None):
        """Sends a raw request signed with SigV4 as botocore signs it (for bodies botocore
        would never send)."""
        req = AWSRequest(method=method, url=self.server.url + path, data=body,
                         headers=dict(headers or {}))
        SigV4Auth(Credentials(self.access_key_id, self.secret_access_key), 'ivs',
                  REGION).add_auth(req)
        prepared = req.prepare()
        return requests.request(method, prepared.url, data=body, headers=dict(prepared.headers))

    # --- the In-Stream face, for cross-face tests ---

    def new_application(self):
        """A LIVE application (= stage) with its ApiKey, made through the management API."""
        r = requests.post(self.server.url + '/v1/applications', json={'type': 'LIVE'},
                          headers={'Authorization': 'Bearer ' + self.admin_token})
        r.raise_for_status()
        return r.json()

    def instream(self, method, path, api_key, body=None):
        return requests.request(method, self.server.url + '/v1' + path, json=body,
                                headers={'ApiKey': api_key})


class Server(e2e_server.RollcallServer):
    """The suite's server; `tenant` is the bootstrap tenant (or a new one on a shared store)."""

    def __init__(self, binary, database=None):
        super().__init__(binary, database, name='ivs')
        self.tenant = None

    def start(self):
        global _SERVER
        super().start()
        self.tenant = Tenant(self, self.creds)
        _SERVER = self
        return self

    def new_tenant(self):
        return Tenant(self, self.create_tenant())


def server():
    assert _SERVER is not None, 'run the suite through tests/ivs/run.py'
    return _SERVER


def quote_arn(arn):
    return urllib.parse.quote(arn, safe='')


def join(server_url, token, body=None, action='join'):
    return requests.post(server_url + '/v1/stage/' + action, json=body if body is not None else {},
                         headers={'Authorization': 'Bearer ' + token})


def paginate(call, key, page_size, **kwargs):
    """Follows nextToken (botocore has no paginators for ivs-realtime). Returns (items, pages)."""
    items, pages, token = [], 0, None
    while True:
        args = dict(kwargs, maxResults=page_size)
        if token:
            args['nextToken'] = token
        r = call(**args)
        pages += 1
        assert len(r[key]) <= page_size
        items += r[key]
        token = r.get('nextToken')
        if not token:
            return items, pages

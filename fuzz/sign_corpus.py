#!/usr/bin/env python3
"""Writes the IVS inputs of fuzz/corpus/http_request_fuzzer/ and the seeds of the sigv4, jwt
and cursor fuzzers. The signed requests use http_request_fuzzer's fixed access key, tenant key
and frozen clock (2026-11-18T08:00:00Z), so they authenticate inside the fuzzer. Signing is
done here independently of the server's code (RFC-style SigV4 and HS256), which also
cross-checks it. Run from the repository root: python3 fuzz/sign_corpus.py"""
import base64
import hashlib
import hmac
import json
import os
import urllib.parse

AKID = 'AKIAFUZZFUZZFUZZFUZZ'
SECRET = 'fuzzsecretfuzzsecretfuzzsecretfuzzsecret'
KID = 'f0f0f0f0f0f0f0f0'
TENANT_KEY = b'fuzz-tenant-key-secret-32-bytes!'
AMZ_DATE = '20261118T080000Z'
NOW = 1794988800
HOST = 'localhost'
STAGE_ARN = 'arn:aws:ivs:us-east-1:123456789012:stage/fuzzstage001'
OUT = 'fuzz/corpus'


def sign(method, path, query, body, headers):
    signed = dict(headers, host=HOST)
    signed['x-amz-date'] = AMZ_DATE
    names = sorted(signed)
    canonical_uri = urllib.parse.quote(path, safe='/-_.~')
    pairs = sorted(urllib.parse.parse_qsl(query, keep_blank_values=True))
    canonical_query = '&'.join(urllib.parse.quote(k, safe='-_.~') + '=' +
                               urllib.parse.quote(v, safe='-_.~') for k, v in pairs)
    canonical = '\n'.join([method, canonical_uri, canonical_query,
                           ''.join(f'{n}:{signed[n].strip()}\n' for n in names),
                           ';'.join(names), hashlib.sha256(body).hexdigest()])
    scope = f'{AMZ_DATE[:8]}/us-east-1/ivs/aws4_request'
    to_sign = '\n'.join(['AWS4-HMAC-SHA256', AMZ_DATE, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ('AWS4' + SECRET).encode()
    for part in (AMZ_DATE[:8], 'us-east-1', 'ivs', 'aws4_request'):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    signed['authorization'] = (f'AWS4-HMAC-SHA256 Credential={AKID}/{scope}, '
                               f'SignedHeaders={";".join(names)}, Signature={signature}')
    return signed


def raw_request(method, target, headers, body):
    lines = [f'{method} {target} HTTP/1.1'] + [f'{k}: {v}' for k, v in headers.items()]
    lines.append(f'content-length: {len(body)}')
    return ('\r\n'.join(lines) + '\r\n\r\n').encode() + body


def ivs(operation, payload, signed=True):
    body = json.dumps(payload).encode()
    headers = {'content-type': 'application/json'}
    if signed:
        headers = sign('POST', '/' + operation, '', body, headers)
    else:
        headers['host'] = HOST
    return raw_request('POST', '/' + operation, headers, body)


def tags(method, query, payload):
    path = '/tags/' + urllib.parse.quote(STAGE_ARN, safe='')
    body = json.dumps(payload).encode() if payload is not None else b''
    headers = sign(method, path, query, body, {'content-type': 'application/json'})
    return raw_request(method, path + ('?' + query if query else ''), headers, body)


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def token(participant_id, publish=True, subscribe=True):
    header = json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': KID}, separators=(',', ':'))
    claims = {'version': '1.0', 'jti': participant_id, 'resource': STAGE_ARN,
              'topic': 'fuzzstage001', 'user_id': 'u-' + participant_id,
              'attributes': {'nickname': 'fuzzer'},
              'capabilities': {'allow_publish': publish, 'allow_subscribe': subscribe},
              'iat': NOW - 60, 'exp': NOW + 3600}
    signing_input = b64(header.encode()) + '.' + b64(json.dumps(claims, separators=(',', ':')).encode())
    mac = hmac.new(TENANT_KEY, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + '.' + b64(mac)


def presence(action, tok, payload):
    body = json.dumps(payload).encode()
    headers = {'host': HOST, 'content-type': 'application/json'}
    if tok is not None:
        headers['authorization'] = 'Bearer ' + tok
    return raw_request('POST', '/v1/stage/' + action, headers, body)


def main():
    http = {
        'ivs_list_stages': ivs('ListStages', {}),
        'ivs_list_stages_unsigned': ivs('ListStages', {}, signed=False),
        'ivs_get_stage': ivs('GetStage', {'arn': STAGE_ARN}),
        'ivs_create_stage': ivs('CreateStage', {
            'name': 'fz', 'tags': {'a': 'b'},
            'participantTokenConfigurations': [{'userId': 'u1', 'duration': 60,
                                                'capabilities': ['PUBLISH']}]}),
        'ivs_create_token': ivs('CreateParticipantToken', {'stageArn': STAGE_ARN, 'userId': 'u1',
                                                           'attributes': {'k': 'v'}}),
        'ivs_list_participants': ivs('ListParticipants', {
            'stageArn': STAGE_ARN, 'sessionId': 'st-fuzzsession01', 'maxResults': 1,
            'filterByState': 'CONNECTED'}),
        'ivs_list_participants_token': ivs('ListParticipants', {
            'stageArn': STAGE_ARN, 'sessionId': 'st-fuzzsession01', 'nextToken': 'AAAA-_=='}),
        'ivs_list_events': ivs('ListParticipantEvents', {
            'stageArn': STAGE_ARN, 'sessionId': 'st-fuzzsession01', 'participantId': 'p1'}),
        'ivs_get_participant': ivs('GetParticipant', {
            'stageArn': STAGE_ARN, 'sessionId': 'st-fuzzsession01', 'participantId': 'fuzzpart0001'}),
        'ivs_disconnect': ivs('DisconnectParticipant', {
            'stageArn': STAGE_ARN, 'participantId': 'fuzzpart0001', 'reason': 'fuzz'}),
        'ivs_get_session': ivs('GetStageSession', {'stageArn': STAGE_ARN,
                                                   'sessionId': 'st-fuzzsession01'}),
        'ivs_list_sessions': ivs('ListStageSessions', {'stageArn': STAGE_ARN}),
        'ivs_storage': ivs('CreateStorageConfiguration', {'s3': {'bucketName': 'bucket-1'}}),
        'ivs_not_implemented': ivs('CreateEncoderConfiguration', {}),
        'ivs_bad_json': ivs('ListStages', {})[:-1],
        'ivs_tags_get': tags('GET', '', None),
        'ivs_tags_post': tags('POST', '', {'tags': {'k': 'v'}}),
        'ivs_tags_delete': tags('DELETE', 'tagKeys=k&tagKeys=x', None),
        'ivs_bad_authorization': raw_request('POST', '/ListStages', {
            'host': HOST, 'x-amz-date': AMZ_DATE,
            'authorization': 'AWS4-HMAC-SHA256 Credential=AKIAFUZZFUZZFUZZFUZZ/20261118/us-east-1/'
                             'ivs/aws4_request, SignedHeaders=host;x-amz-date, Signature=00'}, b'{}'),
        'stage_join': presence('join', token('fuzzpart0001'), {
            'browserName': 'firefox', 'osName': 'linux', 'protocol': 'WHIP'}),
        'stage_publish': presence('publish', token('fuzzpart0001'), {'state': 'STARTED'}),
        'stage_subscribe': presence('subscribe', token('fuzzpart0002', publish=False),
                                    {'remoteParticipantId': 'fuzzpart0001', 'state': 'STARTED'}),
        'stage_leave': presence('leave', token('fuzzpart0001'), {}),
        'stage_no_token': presence('join', None, {}),
    }
    http['stage_join_publish_pipelined'] = http['stage_join'] + http['stage_publish'] + http['stage_leave']
    http['stage_join_then_get_participant'] = http['stage_join'] + http['ivs_get_participant']
    for name, data in http.items():
        with open(os.path.join(OUT, 'http_request_fuzzer', name), 'wb') as f:
            f.write(data)

    sig = {name: [l for l in data.split(b'\r\n') if l.startswith(b'authorization: AWS4')][0][15:]
           for name, data in http.items() if name in ('ivs_list_stages', 'ivs_tags_delete',
                                                     'ivs_bad_authorization')}
    sig['empty'] = b''
    sig['no_comma'] = b'AWS4-HMAC-SHA256 Credential=A/B/C/D/E SignedHeaders=host Signature=ab'
    sig['request_parts'] = b'ListStages\x00a=1&b=%20\x00{}'
    os.makedirs(os.path.join(OUT, 'sigv4_fuzzer'), exist_ok=True)
    for name, data in sig.items():
        with open(os.path.join(OUT, 'sigv4_fuzzer', name), 'wb') as f:
            f.write(data)

    jwt = {'valid': token('fuzzpart0001').encode(), 'no_publish': token('p2', publish=False).encode(),
           'alg_none': (b64(b'{"alg":"none","kid":"x"}') + '.' + b64(b'{}') + '.').encode(),
           'two_parts': b'abc.def', 'payload': b'{"version":"1.0","jti":"x"}'}
    os.makedirs(os.path.join(OUT, 'jwt_fuzzer'), exist_ok=True)
    for name, data in jwt.items():
        with open(os.path.join(OUT, 'jwt_fuzzer', name), 'wb') as f:
            f.write(data)

    cursor = {'position': b'[1795000000000,"p1"]', 'int': b'[42]',
              'b64': b'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'empty': b''}
    os.makedirs(os.path.join(OUT, 'cursor_fuzzer'), exist_ok=True)
    for name, data in cursor.items():
        with open(os.path.join(OUT, 'cursor_fuzzer', name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()

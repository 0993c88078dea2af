"""A token-joined participant's whole life, and one participant seen through both faces."""
import base64
import json
import unittest

from harness import join, server


def claims_of(token):
    payload = token.split('.')[1]
    return json.loads(base64.urlsafe_b64decode(payload + '=' * (-len(payload) % 4)))


class TokenLifecycle(unittest.TestCase):
    def test_join_publish_subscribe_leave_rejoin_disconnect(self):
        t = server().tenant
        c = t.client()
        url = server().url
        sc = c.create_storage_configuration(s3={'bucketName': 'life-bucket'})
        stage = c.create_stage(name='life', autoParticipantRecordingConfiguration={
            'storageConfigurationArn': sc['storageConfiguration']['arn']})['stage']
        arn = stage['arn']
        stage_id = arn.rsplit('/', 1)[1]
        me = c.create_participant_token(stageArn=arn, userId='me')['participantToken']
        other = c.create_participant_token(stageArn=arn, userId='other')['participantToken']
        pid = me['participantId']

        r = join(url, me['token'], {'browserName': 'Firefox', 'protocol': 'WHIP'})
        self.assertEqual(r.status_code, 200, r.text)
        sid = r.json()['sessionId']
        self.assertEqual(join(url, other['token']).status_code, 200)
        first = c.get_participant(stageArn=arn, sessionId=sid, participantId=pid)['participant']

        self.assertEqual(join(url, me['token'], {'state': 'STARTED'}, 'publish').status_code, 200)
        p = c.get_participant(stageArn=arn, sessionId=sid, participantId=pid)['participant']
        self.assertTrue(p['published'])
        self.assertEqual(p['recordingState'], 'ACTIVE')
        self.assertEqual(p['recordingS3BucketName'], 'life-bucket')
        self.assertEqual(p['recordingS3Prefix'], '%s/%s/%s' % (stage_id, sid, pid))

        r = join(url, me['token'], {'remoteParticipantId': other['participantId'],
                                    'state': 'STARTED'}, 'subscribe')
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(join(url, me['token'], {'remoteParticipantId': other['participantId'],
                                                 'state': 'STOPPED'}, 'subscribe').status_code, 200)
        r = join(url, me['token'], action='leave')
        self.assertEqual(r.json()['state'], 'DISCONNECTED')
        p = c.get_participant(stageArn=arn, sessionId=sid, participantId=pid)['participant']
        self.assertEqual(p['state'], 'DISCONNECTED')
        self.assertEqual(p['recordingState'], 'STOPPED')
        self.assertTrue(p['published'])
        self.assertEqual(join(url, me['token'], action='leave').status_code, 200)  # idempotent

        r = join(url, me['token'], {'osName': 'Linux'})
        self.assertEqual(r.json(), {'participantId': pid, 'stageArn': arn, 'sessionId': sid,
                                    'state': 'CONNECTED', 'published': True})
        p = c.get_participant(stageArn=arn, sessionId=sid, participantId=pid)['participant']
        self.assertEqual(p['firstJoinTime'], first['firstJoinTime'])
        self.assertEqual(p['browserName'], 'Firefox')
        self.assertEqual(p['osName'], 'Linux')
        self.assertEqual(join(url, me['token'], {'state': 'STARTED'}, 'publish').status_code, 200)
        p = c.get_participant(stageArn=arn, sessionId=sid, participantId=pid)['participant']
        self.assertEqual(p['recordingState'], 'ACTIVE')
        self.assertEqual(p['recordingS3Prefix'], '%s/%s/%s' % (stage_id, sid, pid))

        c.disconnect_participant(stageArn=arn, participantId=pid, reason='bye')
        r = join(url, me['token'])
        self.assertEqual(r.status_code, 401)
        self.assertEqual(r.json()['code'], 'UNAUTHORIZED')
        self.assertEqual(join(url, me['token'], {'state': 'STOPPED'}, 'publish').status_code, 401)
        p = c.get_participant(stageArn=arn, sessionId=sid, participantId=pid)['participant']
        self.assertEqual(p['state'], 'DISCONNECTED')
        self.assertEqual(p['recordingState'], 'STOPPED')

        events = c.list_participant_events(stageArn=arn, sessionId=sid, participantId=pid)['events']
        self.assertEqual([e['name'] for e in events], [
            'JOINED', 'PUBLISH_STARTED', 'SUBSCRIBE_STARTED', 'SUBSCRIBE_STOPPED',
            'PUBLISH_STOPPED', 'LEFT', 'JOINED', 'PUBLISH_STARTED', 'PUBLISH_STOPPED', 'LEFT'])
        times = [e['eventTime'] for e in events]
        self.assertEqual(times, sorted(times))
        self.assertEqual(events[2]['remoteParticipantId'], other['participantId'])
        self.assertFalse(events[2]['replica'])
        self.assertNotIn('remoteParticipantId', events[0])

    def test_token_claims_and_expiry(self):
        t = server().tenant
        c = t.client()
        arn = c.create_stage()['stage']['arn']
        tok = c.create_participant_token(stageArn=arn, userId='u', duration=1,
                                         capabilities=[])['participantToken']
        claims = claims_of(tok['token'])
        self.assertEqual(claims['jti'], tok['participantId'])
        self.assertEqual(claims['resource'], arn)
        self.assertEqual(claims['exp'] - claims['iat'], 60)
        self.assertEqual(claims['capabilities'], {'allow_publish': False, 'allow_subscribe': False})
        self.assertEqual(tok['capabilities'], [])
        # No capability: may join, may neither publish nor subscribe.
        self.assertEqual(join(server().url, tok['token']).status_code, 200)
        self.assertEqual(join(server().url, tok['token'], {'state': 'STARTED'},
                              'publish').status_code, 403)
        # A token whose signature does not match its claims (here: a longer duration) fails.
        header, payload, sig = tok['token'].split('.')
        claims['exp'] += 3600
        forged_payload = base64.urlsafe_b64encode(
            json.dumps(claims).encode()).decode().rstrip('=')
        self.assertEqual(join(server().url, '.'.join([header, forged_payload, sig])).status_code,
                         401)

    def test_a_rejoin_after_the_session_ends_opens_a_new_session(self):
        t = server().tenant
        c = t.client()
        app = t.new_application()
        tok = c.create_participant_token(stageArn=app['stageArn'])['participantToken']
        first = join(server().url, tok['token']).json()['sessionId']
        sessions = t.instream('GET', '/applications/sessions', app['apiKey']).json()['data']
        self.assertEqual(t.instream('POST', '/applications/sessions/%s/end' %
                                    sessions[0]['sessionId'], app['apiKey']).status_code, 200)
        p = c.get_participant(stageArn=app['stageArn'], sessionId=first,
                              participantId=tok['participantId'])['participant']
        self.assertEqual(p['state'], 'DISCONNECTED')
        second = join(server().url, tok['token']).json()['sessionId']
        self.assertNotEqual(first, second)
        self.assertEqual(c.get_stage(arn=app['stageArn'])['stage']['activeSessionId'], second)


class BothFaces(unittest.TestCase):
    def test_instream_participant_through_get_participant(self):
        t = server().tenant
        c = t.client()
        app = t.new_application()
        key = app['apiKey']
        sid = t.instream('POST', '/applications/sessions', key).json()['sessionId']
        r = t.instream('POST', '/applications/sessions/%s/participants/enter' % sid, key,
                       {'participantId': 'user-42', 'nickname': 'Kim',
                        'profileImageUrl': 'https://example.com/k.png',
                        'attributes': {'seat': 'A1'}})
        self.assertEqual(r.status_code, 201, r.text)
        st = c.get_stage(arn=app['stageArn'])['stage']['activeSessionId']
        p = c.get_participant(stageArn=app['stageArn'], sessionId=st,
                              participantId='user-42')['participant']
        self.assertEqual(p['userId'], 'user-42')
        self.assertEqual(p['state'], 'CONNECTED')
        self.assertEqual(p['attributes'], {'seat': 'A1'})
        self.assertEqual(p['protocol'], 'UNKNOWN')
        self.assertEqual(p['recordingState'], 'DISABLED')
        raw = t.signed('POST', '/GetParticipant', json.dumps({
            'stageArn': app['stageArn'], 'sessionId': st, 'participantId': 'user-42'}).encode(),
            {'Content-Type': 'application/json'}).json()['participant']
        self.assertEqual(raw['nickname'], 'Kim')
        self.assertEqual(raw['profileImageUrl'], 'https://example.com/k.png')

        # An In-Stream id outside [a-zA-Z0-9-]{1,64} gets a stable derived IVS id.
        t.instream('POST', '/applications/sessions/%s/participants/enter' % sid, key,
                   {'participantId': 'kim@example.com', 'nickname': 'K'})
        listed = c.list_participants(stageArn=app['stageArn'], sessionId=st,
                                     filterByUserId='kim@example.com')['participants']
        self.assertEqual(len(listed), 1)
        self.assertRegex(listed[0]['participantId'], r'^h-[0-9a-f]{40}$')

        t.instream('POST', '/applications/sessions/%s/participants/leave' % sid, key,
                   {'participantId': 'user-42'})
        events = c.list_participant_events(stageArn=app['stageArn'], sessionId=st,
                                           participantId='user-42')['events']
        self.assertEqual([e['name'] for e in events], ['JOINED', 'LEFT'])

    def test_token_participant_through_instream_search(self):
        t = server().tenant
        c = t.client()
        app = t.new_application()
        named = c.create_participant_token(stageArn=app['stageArn'], userId='u-1',
                                           attributes={'nickname': 'Neo'})['participantToken']
        plain = c.create_participant_token(stageArn=app['stageArn'],
                                           userId='u-2')['participantToken']
        self.assertEqual(join(server().url, named['token']).status_code, 200)
        self.assertEqual(join(server().url, plain['token']).status_code, 200)
        sessions = t.instream('GET', '/applications/sessions', app['apiKey']).json()['data']
        sid = sessions[0]['sessionId']
        self.assertEqual(sessions[0]['participantCount'], 2)
        rows = t.instream('GET', '/applications/sessions/%s/participants?name=nickname&option=ASC'
                          % sid, app['apiKey']).json()['data']
        self.assertEqual([(r['participant']['participantId'], r['participant']['nickname'])
                          for r in rows],
                         [(named['participantId'], 'Neo'), (plain['participantId'], 'u-2')])
        self.assertIsNone(rows[0]['deletedAt'])
        # Disconnecting through IVS closes the visit the In-Stream face shows.
        c.disconnect_participant(stageArn=app['stageArn'], participantId=named['participantId'])
        rows = t.instream('GET', '/applications/sessions/%s/participants?nickname=neo' % sid,
                          app['apiKey']).json()['data']
        self.assertIsNotNone(rows[0]['deletedAt'])


if __name__ == '__main__':
    unittest.main()

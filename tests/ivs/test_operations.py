"""Every implemented operation through boto3, unchanged, with --endpoint-url."""
import datetime
import unittest

from harness import REGION, join, paginate, server


class StageOperations(unittest.TestCase):
    def setUp(self):
        self.t = server().tenant
        self.c = self.t.client()

    def test_create_get_update_delete_stage(self):
        r = self.c.create_stage(
            name='stage-1', tags={'team': 'red'},
            participantTokenConfigurations=[
                {'userId': 'alice', 'duration': 60, 'capabilities': ['PUBLISH'],
                 'attributes': {'nickname': 'Alice'}},
                {'userId': 'bob'}])
        stage = r['stage']
        self.assertRegex(stage['arn'], r'^arn:aws:ivs:%s:%s:stage/[a-zA-Z0-9]{12}$' %
                         (REGION, self.t.account_id))
        self.assertEqual(stage['name'], 'stage-1')
        self.assertEqual(stage['tags'], {'team': 'red'})
        self.assertNotIn('activeSessionId', stage)
        tokens = r['participantTokens']
        self.assertEqual(len(tokens), 2)
        self.assertEqual(tokens[0]['userId'], 'alice')
        self.assertEqual(tokens[0]['duration'], 60)
        self.assertEqual(tokens[0]['capabilities'], ['PUBLISH'])
        self.assertEqual(tokens[0]['attributes'], {'nickname': 'Alice'})
        self.assertEqual(tokens[1]['duration'], 720)
        self.assertEqual(tokens[1]['capabilities'], ['PUBLISH', 'SUBSCRIBE'])
        self.assertIsInstance(tokens[0]['expirationTime'], datetime.datetime)
        self.assertNotEqual(tokens[0]['participantId'], tokens[1]['participantId'])
        self.assertEqual(tokens[0]['token'].count('.'), 2)

        got = self.c.get_stage(arn=stage['arn'])['stage']
        self.assertEqual(got['arn'], stage['arn'])
        self.assertEqual(got['name'], 'stage-1')

        updated = self.c.update_stage(arn=stage['arn'], name='renamed')['stage']
        self.assertEqual(updated['name'], 'renamed')
        self.assertEqual(self.c.get_stage(arn=stage['arn'])['stage']['name'], 'renamed')

        # A token joins: the stage then has an active session.
        self.assertEqual(join(server().url, tokens[1]['token']).status_code, 200)
        active = self.c.get_stage(arn=stage['arn'])['stage']['activeSessionId']
        self.assertRegex(active, r'^st-[a-zA-Z0-9]{13}$')

        self.c.delete_stage(arn=stage['arn'])
        with self.assertRaises(self.c.exceptions.ResourceNotFoundException):
            self.c.get_stage(arn=stage['arn'])
        with self.assertRaises(self.c.exceptions.ResourceNotFoundException):
            self.c.get_stage_session(stageArn=stage['arn'], sessionId=active)
        self.assertNotIn(stage['arn'], [s['arn'] for s in self.c.list_stages()['stages']])

    def test_list_stages_pages(self):
        made = [self.c.create_stage(name='page-%d' % i)['stage']['arn'] for i in range(5)]
        seen, token, pages = [], None, 0
        while True:
            kwargs = {'maxResults': 2}
            if token:
                kwargs['nextToken'] = token
            r = self.c.list_stages(**kwargs)
            pages += 1
            self.assertLessEqual(len(r['stages']), 2)
            seen += [s['arn'] for s in r['stages']]
            token = r.get('nextToken')
            if not token:
                break
        self.assertEqual(len(seen), len(set(seen)))
        for arn in made:
            self.assertIn(arn, seen)
        self.assertGreaterEqual(pages, 3)
        # Another page size walks the same order.
        paged, _ = paginate(self.c.list_stages, 'stages', 3)
        self.assertEqual([s['arn'] for s in paged], seen)

    def test_tags(self):
        arn = self.c.create_stage(name='tags', tags={'a': '1', 'b': '2'})['stage']['arn']
        self.c.tag_resource(resourceArn=arn, tags={'b': '20', 'c': '3'})
        self.assertEqual(self.c.list_tags_for_resource(resourceArn=arn)['tags'],
                         {'a': '1', 'b': '20', 'c': '3'})
        self.c.untag_resource(resourceArn=arn, tagKeys=['a', 'c', 'absent'])
        self.assertEqual(self.c.list_tags_for_resource(resourceArn=arn)['tags'], {'b': '20'})
        self.assertEqual(self.c.get_stage(arn=arn)['stage']['tags'], {'b': '20'})


class StorageOperations(unittest.TestCase):
    def setUp(self):
        self.t = server().tenant
        self.c = self.t.client()

    def test_storage_configuration_lifecycle(self):
        made = self.c.create_storage_configuration(
            name='rec', s3={'bucketName': 'my-recordings'}, tags={'k': 'v'})
        sc = made['storageConfiguration']
        self.assertRegex(sc['arn'], r'^arn:aws:ivs:%s:%s:storage-configuration/[a-zA-Z0-9]{12}$' %
                         (REGION, self.t.account_id))
        self.assertEqual(sc['s3'], {'bucketName': 'my-recordings'})
        self.assertEqual(sc['tags'], {'k': 'v'})
        got = self.c.get_storage_configuration(arn=sc['arn'])['storageConfiguration']
        self.assertEqual(got, sc)
        self.c.tag_resource(resourceArn=sc['arn'], tags={'x': 'y'})
        self.assertEqual(self.c.list_tags_for_resource(resourceArn=sc['arn'])['tags'],
                         {'k': 'v', 'x': 'y'})

        items, _ = paginate(self.c.list_storage_configurations, 'storageConfigurations', 1)
        listed = [s['arn'] for s in items]
        self.assertIn(sc['arn'], listed)
        self.assertEqual(len(listed), len(set(listed)))

        # In use by a stage's recording: refused; once unused: deleted.
        stage = self.c.create_stage(autoParticipantRecordingConfiguration={
            'storageConfigurationArn': sc['arn'], 'mediaTypes': ['AUDIO_ONLY']})['stage']
        rec = stage['autoParticipantRecordingConfiguration']
        self.assertEqual(rec['storageConfigurationArn'], sc['arn'])
        self.assertEqual(rec['mediaTypes'], ['AUDIO_ONLY'])
        self.assertEqual(rec['recordingReconnectWindowSeconds'], 0)
        self.assertEqual(rec['thumbnailConfiguration'],
                         {'targetIntervalSeconds': 60, 'storage': ['SEQUENTIAL'],
                          'recordingMode': 'INTERVAL'})
        self.assertEqual(rec['hlsConfiguration'], {'targetSegmentDurationSeconds': 6})
        self.assertTrue(rec['recordParticipantReplicas'])
        with self.assertRaises(self.c.exceptions.ConflictException):
            self.c.delete_storage_configuration(arn=sc['arn'])
        self.c.update_stage(arn=stage['arn'],
                            autoParticipantRecordingConfiguration={'storageConfigurationArn': ''})
        self.assertNotIn('autoParticipantRecordingConfiguration',
                         self.c.get_stage(arn=stage['arn'])['stage'])
        self.c.delete_storage_configuration(arn=sc['arn'])
        with self.assertRaises(self.c.exceptions.ResourceNotFoundException):
            self.c.get_storage_configuration(arn=sc['arn'])


class SessionOperations(unittest.TestCase):
    def setUp(self):
        self.t = server().tenant
        self.c = self.t.client()

    def test_sessions_newest_first(self):
        app = self.t.new_application()
        arn = app['stageArn']
        ids = []
        for _ in range(3):
            r = self.t.instream('POST', '/applications/sessions', app['apiKey'])
            self.assertEqual(r.status_code, 201)
            ids.append(r.json()['stageSessionId'])
        r = self.c.list_stage_sessions(stageArn=arn, maxResults=2)
        self.assertEqual([s['sessionId'] for s in r['stageSessions']], [ids[2], ids[1]])
        self.assertNotIn('endTime', r['stageSessions'][0])
        self.assertIsInstance(r['stageSessions'][1]['endTime'], datetime.datetime)
        r2 = self.c.list_stage_sessions(stageArn=arn, maxResults=2, nextToken=r['nextToken'])
        self.assertEqual([s['sessionId'] for s in r2['stageSessions']], [ids[0]])
        self.assertNotIn('nextToken', r2)
        s = self.c.get_stage_session(stageArn=arn, sessionId=ids[0])['stageSession']
        self.assertEqual(s['sessionId'], ids[0])
        self.assertLessEqual(s['startTime'], s['endTime'])
        self.assertEqual(self.c.get_stage(arn=arn)['stage']['activeSessionId'], ids[2])


class ParticipantOperations(unittest.TestCase):
    def setUp(self):
        self.t = server().tenant
        self.c = self.t.client()

    def test_token_get_list_events_disconnect(self):
        arn = self.c.create_stage(name='p')['stage']['arn']
        tok = self.c.create_participant_token(
            stageArn=arn, userId='user-7', duration=30, capabilities=['PUBLISH', 'SUBSCRIBE'],
            attributes={'nickname': 'Seven', 'team': 'blue'})['participantToken']
        self.assertEqual(tok['duration'], 30)
        self.assertEqual(tok['userId'], 'user-7')
        exp = tok['expirationTime']
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertTrue(datetime.timedelta(minutes=29) < exp - now < datetime.timedelta(minutes=31))

        body = {'browserName': 'Chrome', 'browserVersion': '120.0.1', 'osName': 'Windows',
                'osVersion': '11', 'sdkVersion': '1.20.0', 'ispName': 'Example ISP',
                'protocol': 'WHIP'}
        r = join(server().url, tok['token'], body)
        self.assertEqual(r.status_code, 200, r.text)
        sid = r.json()['sessionId']
        self.assertEqual(r.json()['state'], 'CONNECTED')
        self.assertEqual(r.json()['stageArn'], arn)

        p = self.c.get_participant(stageArn=arn, sessionId=sid,
                                   participantId=tok['participantId'])['participant']
        self.assertEqual(p['participantId'], tok['participantId'])
        self.assertEqual(p['userId'], 'user-7')
        self.assertEqual(p['state'], 'CONNECTED')
        self.assertEqual(p['attributes'], {'nickname': 'Seven', 'team': 'blue'})
        for k in ('browserName', 'browserVersion', 'osName', 'osVersion', 'sdkVersion', 'ispName',
                  'protocol'):
            self.assertEqual(p[k], body[k], k)
        self.assertFalse(p['published'])
        self.assertEqual(p['recordingState'], 'DISABLED')
        self.assertEqual(p['recordingS3BucketName'], '')
        self.assertEqual(p['recordingS3Prefix'], '')
        self.assertEqual(p['replicationType'], 'NONE')
        self.assertIsInstance(p['firstJoinTime'], datetime.datetime)

        listed = self.c.list_participants(stageArn=arn, sessionId=sid)['participants']
        self.assertEqual([x['participantId'] for x in listed], [tok['participantId']])
        self.assertEqual(listed[0]['state'], 'CONNECTED')

        self.c.disconnect_participant(stageArn=arn, participantId=tok['participantId'],
                                      reason='moderation')
        p = self.c.get_participant(stageArn=arn, sessionId=sid,
                                   participantId=tok['participantId'])['participant']
        self.assertEqual(p['state'], 'DISCONNECTED')
        events = self.c.list_participant_events(stageArn=arn, sessionId=sid,
                                                participantId=tok['participantId'])['events']
        self.assertEqual([e['name'] for e in events], ['JOINED', 'LEFT'])
        self.assertTrue(all(e['participantId'] == tok['participantId'] for e in events))
        self.assertLessEqual(events[0]['eventTime'], events[1]['eventTime'])
        self.assertEqual(join(server().url, tok['token']).status_code, 401)

    def test_events_page(self):
        arn = self.c.create_stage()['stage']['arn']
        a = self.c.create_participant_token(stageArn=arn)['participantToken']
        sid = join(server().url, a['token']).json()['sessionId']
        for _ in range(3):
            self.assertEqual(join(server().url, a['token'], {'state': 'STARTED'},
                                  'publish').status_code, 200)
            self.assertEqual(join(server().url, a['token'], {'state': 'STOPPED'},
                                  'publish').status_code, 200)
        events, pages = paginate(self.c.list_participant_events, 'events', 2, stageArn=arn,
                                 sessionId=sid, participantId=a['participantId'])
        self.assertEqual(pages, 4)
        names = [e['name'] for e in events]
        self.assertEqual(names, ['JOINED'] + ['PUBLISH_STARTED', 'PUBLISH_STOPPED'] * 3)


if __name__ == '__main__':
    unittest.main()

"""Replication into a second stage, and tenant isolation through the IVS face."""
import unittest

from harness import join, server


class Replication(unittest.TestCase):
    def test_replicate_list_stop(self):
        t = server().tenant
        c = t.client()
        url = server().url
        src = c.create_stage(name='src')['stage']['arn']
        dst = c.create_stage(name='dst')['stage']['arn']
        tok = c.create_participant_token(stageArn=src, userId='star',
                                         attributes={'role': 'host'})['participantToken']
        pid = tok['participantId']
        src_sid = join(url, tok['token'], {'browserName': 'Chrome'}).json()['sessionId']
        self.assertEqual(join(url, tok['token'], {'state': 'STARTED'}, 'publish').status_code, 200)

        r = c.start_participant_replication(sourceStageArn=src, destinationStageArn=dst,
                                            participantId=pid, reconnectWindowSeconds=60,
                                            attributes={'role': 'guest'})
        self.assertEqual(r['ResponseMetadata']['HTTPStatusCode'], 200)
        with self.assertRaises(c.exceptions.ConflictException):
            c.start_participant_replication(sourceStageArn=src, destinationStageArn=dst,
                                            participantId=pid)
        with self.assertRaises(c.exceptions.ValidationException):
            c.start_participant_replication(sourceStageArn=src, destinationStageArn=src,
                                            participantId=pid)

        dst_sid = c.get_stage(arn=dst)['stage']['activeSessionId']
        replica = c.get_participant(stageArn=dst, sessionId=dst_sid,
                                    participantId=pid)['participant']
        self.assertEqual(replica['replicationType'], 'REPLICA')
        self.assertEqual(replica['replicationState'], 'ACTIVE')
        self.assertEqual(replica['sourceStageArn'], src)
        self.assertEqual(replica['sourceSessionId'], src_sid)
        self.assertEqual(replica['userId'], 'star')
        self.assertEqual(replica['attributes'], {'role': 'guest'})
        self.assertEqual(replica['state'], 'CONNECTED')
        self.assertEqual(replica['browserName'], 'Chrome')
        source = c.get_participant(stageArn=src, sessionId=src_sid,
                                   participantId=pid)['participant']
        self.assertEqual(source['replicationType'], 'SOURCE')
        self.assertEqual(source['replicationState'], 'ACTIVE')
        self.assertNotIn('sourceStageArn', source)
        summary = c.list_participants(stageArn=dst, sessionId=dst_sid)['participants'][0]
        self.assertEqual(summary['replicationType'], 'REPLICA')
        self.assertEqual(summary['sourceStageArn'], src)

        replicas = c.list_participant_replicas(sourceStageArn=src, participantId=pid)['replicas']
        self.assertEqual(replicas, [{
            'sourceStageArn': src, 'participantId': pid, 'sourceSessionId': src_sid,
            'destinationStageArn': dst, 'destinationSessionId': dst_sid,
            'replicationState': 'ACTIVE'}])

        c.stop_participant_replication(sourceStageArn=src, destinationStageArn=dst,
                                       participantId=pid)
        with self.assertRaises(c.exceptions.ResourceNotFoundException):
            c.stop_participant_replication(sourceStageArn=src, destinationStageArn=dst,
                                           participantId=pid)
        replica = c.get_participant(stageArn=dst, sessionId=dst_sid,
                                    participantId=pid)['participant']
        self.assertEqual(replica['replicationState'], 'STOPPED')
        self.assertEqual(replica['state'], 'DISCONNECTED')
        self.assertEqual(c.get_participant(stageArn=src, sessionId=src_sid, participantId=pid)
                         ['participant']['replicationState'], 'STOPPED')
        self.assertEqual(c.list_participant_replicas(sourceStageArn=src, participantId=pid)
                         ['replicas'][0]['replicationState'], 'STOPPED')

        events = c.list_participant_events(stageArn=src, sessionId=src_sid,
                                           participantId=pid)['events']
        self.assertEqual([e['name'] for e in events],
                         ['JOINED', 'PUBLISH_STARTED', 'REPLICATION_STARTED',
                          'REPLICATION_STOPPED'])
        self.assertEqual(events[2]['destinationStageArn'], dst)
        self.assertEqual(events[2]['destinationSessionId'], dst_sid)
        replica_events = c.list_participant_events(stageArn=dst, sessionId=dst_sid,
                                                   participantId=pid)['events']
        self.assertEqual([e['name'] for e in replica_events],
                         ['JOINED', 'PUBLISH_STARTED', 'PUBLISH_STOPPED', 'LEFT'])
        self.assertTrue(all(e['replica'] for e in replica_events))

        # Replicating again after a stop: a new link, the same replica record.
        c.start_participant_replication(sourceStageArn=src, destinationStageArn=dst,
                                        participantId=pid)
        self.assertEqual(len(c.list_participant_replicas(sourceStageArn=src, participantId=pid)
                             ['replicas']), 2)

    def test_replica_follows_its_source(self):
        c = server().tenant.client()
        url = server().url
        sc = c.create_storage_configuration(s3={'bucketName': 'replica-bucket'})
        src = c.create_stage()['stage']['arn']
        dst = c.create_stage(autoParticipantRecordingConfiguration={
            'storageConfigurationArn': sc['storageConfiguration']['arn']})['stage']['arn']
        tok = c.create_participant_token(stageArn=src)['participantToken']
        pid = tok['participantId']
        src_sid = join(url, tok['token']).json()['sessionId']
        c.start_participant_replication(sourceStageArn=src, destinationStageArn=dst,
                                        participantId=pid)
        dst_sid = c.get_stage(arn=dst)['stage']['activeSessionId']

        def replica():
            return c.get_participant(stageArn=dst, sessionId=dst_sid,
                                     participantId=pid)['participant']

        self.assertFalse(replica()['published'])
        # The source publishes: so does its replica, recorded by the destination stage.
        self.assertEqual(join(url, tok['token'], {'state': 'STARTED'}, 'publish').status_code, 200)
        r = replica()
        self.assertTrue(r['published'])
        self.assertEqual(r['recordingState'], 'ACTIVE')
        self.assertEqual(r['recordingS3BucketName'], 'replica-bucket')
        self.assertEqual(r['recordingS3Prefix'],
                         '%s/%s/%s' % (dst.rsplit('/', 1)[1], dst_sid, pid))
        self.assertEqual(join(url, tok['token'], {'state': 'STOPPED'}, 'publish').status_code, 200)
        self.assertEqual(replica()['recordingState'], 'STOPPED')
        # The source leaves: its replication stops and the replica leaves.
        self.assertEqual(join(url, tok['token'], action='leave').status_code, 200)
        r = replica()
        self.assertEqual(r['state'], 'DISCONNECTED')
        self.assertEqual(r['replicationState'], 'STOPPED')
        self.assertEqual([e['name'] for e in c.list_participant_events(
            stageArn=dst, sessionId=dst_sid, participantId=pid)['events']],
            ['JOINED', 'PUBLISH_STARTED', 'PUBLISH_STOPPED', 'LEFT'])
        self.assertEqual([e['name'] for e in c.list_participant_events(
            stageArn=src, sessionId=src_sid, participantId=pid)['events']],
            ['JOINED', 'REPLICATION_STARTED', 'PUBLISH_STARTED', 'PUBLISH_STOPPED',
             'REPLICATION_STOPPED', 'LEFT'])
        self.assertEqual(c.list_participant_replicas(sourceStageArn=src, participantId=pid)
                         ['replicas'][0]['replicationState'], 'STOPPED')

    def test_only_connected_participants_replicate(self):
        c = server().tenant.client()
        src = c.create_stage()['stage']['arn']
        dst = c.create_stage()['stage']['arn']
        tok = c.create_participant_token(stageArn=src)['participantToken']
        with self.assertRaises(c.exceptions.ResourceNotFoundException):
            c.start_participant_replication(sourceStageArn=src, destinationStageArn=dst,
                                            participantId=tok['participantId'])
        join(server().url, tok['token'])
        join(server().url, tok['token'], action='leave')
        with self.assertRaises(c.exceptions.ConflictException):
            c.start_participant_replication(sourceStageArn=src, destinationStageArn=dst,
                                            participantId=tok['participantId'])


class TenantIsolation(unittest.TestCase):
    def test_another_tenant_sees_nothing(self):
        a = server().tenant
        b = server().new_tenant()
        ca, cb = a.client(), b.client()
        stage = ca.create_stage(name='private', tags={'k': 'v'})['stage']
        arn = stage['arn']
        sc = ca.create_storage_configuration(s3={'bucketName': 'private-bucket'})
        sc_arn = sc['storageConfiguration']['arn']
        tok = ca.create_participant_token(stageArn=arn)['participantToken']
        sid = join(server().url, tok['token']).json()['sessionId']
        # The same stage id under B's own account id is not A's stage either.
        under_b = arn.replace(':%s:' % a.account_id, ':%s:' % b.account_id)

        for target in (arn, under_b):
            with self.assertRaises(cb.exceptions.ResourceNotFoundException):
                cb.get_stage(arn=target)
            with self.assertRaises(cb.exceptions.ResourceNotFoundException):
                cb.update_stage(arn=target, name='stolen')
            with self.assertRaises(cb.exceptions.ResourceNotFoundException):
                cb.delete_stage(arn=target)
            with self.assertRaises(cb.exceptions.ResourceNotFoundException):
                cb.list_tags_for_resource(resourceArn=target)
            with self.assertRaises(cb.exceptions.ResourceNotFoundException):
                cb.tag_resource(resourceArn=target, tags={'x': 'y'})
            with self.assertRaises(cb.exceptions.ResourceNotFoundException):
                cb.list_stage_sessions(stageArn=target)
            with self.assertRaises(cb.exceptions.ResourceNotFoundException):
                cb.get_participant(stageArn=target, sessionId=sid,
                                   participantId=tok['participantId'])
            with self.assertRaises(cb.exceptions.ResourceNotFoundException):
                cb.list_participants(stageArn=target, sessionId=sid)
            with self.assertRaises(cb.exceptions.ResourceNotFoundException):
                cb.create_participant_token(stageArn=target)
            with self.assertRaises(cb.exceptions.ResourceNotFoundException):
                cb.disconnect_participant(stageArn=target, participantId=tok['participantId'])
        with self.assertRaises(cb.exceptions.ResourceNotFoundException):
            cb.get_storage_configuration(arn=sc_arn)
        with self.assertRaises(cb.exceptions.ResourceNotFoundException):
            cb.delete_storage_configuration(arn=sc_arn)
        with self.assertRaises(cb.exceptions.ValidationException):
            cb.create_stage(autoParticipantRecordingConfiguration={'storageConfigurationArn':
                                                                    sc_arn})
        listed = cb.list_stages()['stages']
        self.assertNotIn(arn, [s['arn'] for s in listed])
        self.assertNotIn(sc_arn, [s['arn'] for s in
                                  cb.list_storage_configurations()['storageConfigurations']])

        # A's nextToken means nothing to B.
        for _ in range(2):
            ca.create_stage()
        token = ca.list_stages(maxResults=1)['nextToken']
        with self.assertRaises(cb.exceptions.ValidationException):
            cb.list_stages(maxResults=1, nextToken=token)

        # Nothing of A changed.
        self.assertEqual(ca.get_stage(arn=arn)['stage']['name'], 'private')
        self.assertEqual(ca.list_tags_for_resource(resourceArn=arn)['tags'], {'k': 'v'})
        self.assertEqual(ca.get_participant(stageArn=arn, sessionId=sid,
                                            participantId=tok['participantId'])
                         ['participant']['state'], 'CONNECTED')


if __name__ == '__main__':
    unittest.main()

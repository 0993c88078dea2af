"""Every implemented operation through the unmodified aws CLI with --endpoint-url."""
import json
import unittest

from harness import join, server


class AwsCli(unittest.TestCase):
    def test_every_operation(self):
        t = server().tenant
        cli = t.cli
        url = server().url

        _, sc = cli('create-storage-configuration', '--name', 'cli-rec',
                    '--s3', 'bucketName=cli-bucket', '--tags', 'k=v')
        sc_arn = sc['storageConfiguration']['arn']
        self.assertEqual(cli('get-storage-configuration', '--arn', sc_arn)[1]
                         ['storageConfiguration']['s3']['bucketName'], 'cli-bucket')
        self.assertIn(sc_arn, [s['arn'] for s in cli('list-storage-configurations')[1]
                               ['storageConfigurations']])

        _, made = cli('create-stage', '--name', 'cli-stage', '--tags', 'team=red',
                      '--participant-token-configurations',
                      json.dumps([{'userId': 'cli-user', 'capabilities': ['PUBLISH']}]),
                      '--auto-participant-recording-configuration',
                      json.dumps({'storageConfigurationArn': sc_arn}))
        arn = made['stage']['arn']
        self.assertEqual(made['participantTokens'][0]['userId'], 'cli-user')
        self.assertEqual(cli('get-stage', '--arn', arn)[1]['stage']['name'], 'cli-stage')
        self.assertIn(arn, [s['arn'] for s in cli('list-stages')[1]['stages']])
        self.assertEqual(cli('update-stage', '--arn', arn, '--name', 'cli-renamed')[1]
                         ['stage']['name'], 'cli-renamed')

        cli('tag-resource', '--resource-arn', arn, '--tags', 'a=1,b=2')
        cli('untag-resource', '--resource-arn', arn, '--tag-keys', 'a', 'team')
        self.assertEqual(cli('list-tags-for-resource', '--resource-arn', arn)[1]['tags'],
                         {'b': '2'})

        _, tok = cli('create-participant-token', '--stage-arn', arn, '--user-id', 'viewer',
                     '--duration', '15', '--capabilities', 'PUBLISH', 'SUBSCRIBE',
                     '--attributes', 'nickname=Viewer')
        token = tok['participantToken']
        self.assertEqual(token['duration'], 15)
        r = join(url, token['token'], {'sdkVersion': '1.2.3'})
        self.assertEqual(r.status_code, 200, r.text)
        sid = r.json()['sessionId']
        self.assertEqual(join(url, token['token'], {'state': 'STARTED'}, 'publish').status_code, 200)

        sessions = cli('list-stage-sessions', '--stage-arn', arn)[1]['stageSessions']
        self.assertEqual([s['sessionId'] for s in sessions], [sid])
        self.assertEqual(cli('get-stage-session', '--stage-arn', arn, '--session-id', sid)[1]
                         ['stageSession']['sessionId'], sid)

        pid = token['participantId']
        p = cli('get-participant', '--stage-arn', arn, '--session-id', sid,
                '--participant-id', pid)[1]['participant']
        self.assertEqual(p['userId'], 'viewer')
        self.assertEqual(p['sdkVersion'], '1.2.3')
        self.assertEqual(p['recordingState'], 'ACTIVE')
        self.assertEqual(p['recordingS3BucketName'], 'cli-bucket')
        self.assertEqual(p['firstJoinTime'][-1], 'Z')  # RFC 3339, as the server wrote it
        for flag, expected in (('--filter-by-published', [pid]), ('--no-filter-by-published', [])):
            listed = cli('list-participants', '--stage-arn', arn, '--session-id', sid, flag)[1]
            self.assertEqual([x['participantId'] for x in listed['participants']], expected)
        listed = cli('list-participants', '--stage-arn', arn, '--session-id', sid,
                     '--filter-by-state', 'CONNECTED', '--max-results', '1')[1]
        self.assertEqual([x['participantId'] for x in listed['participants']], [pid])

        _, dst = cli('create-stage', '--name', 'cli-dst')
        dst_arn = dst['stage']['arn']
        cli('start-participant-replication', '--source-stage-arn', arn,
            '--destination-stage-arn', dst_arn, '--participant-id', pid)
        replicas = cli('list-participant-replicas', '--source-stage-arn', arn,
                       '--participant-id', pid)[1]['replicas']
        self.assertEqual(replicas[0]['destinationStageArn'], dst_arn)
        self.assertEqual(replicas[0]['replicationState'], 'ACTIVE')
        cli('stop-participant-replication', '--source-stage-arn', arn,
            '--destination-stage-arn', dst_arn, '--participant-id', pid)

        cli('disconnect-participant', '--stage-arn', arn, '--participant-id', pid,
            '--reason', 'done')
        events = cli('list-participant-events', '--stage-arn', arn, '--session-id', sid,
                     '--participant-id', pid)[1]['events']
        self.assertEqual([e['name'] for e in events],
                         ['JOINED', 'PUBLISH_STARTED', 'REPLICATION_STARTED',
                          'REPLICATION_STOPPED', 'PUBLISH_STOPPED', 'LEFT'])

        cli('update-stage', '--arn', arn, '--auto-participant-recording-configuration',
            'storageConfigurationArn=')
        cli('delete-storage-configuration', '--arn', sc_arn)
        cli('delete-stage', '--arn', arn)
        code, err = cli('get-stage', '--arn', arn, check=False)
        self.assertNotEqual(code, 0)
        self.assertIn('An error occurred (ResourceNotFoundException) when calling the GetStage '
                      'operation: stage %s not found' % arn, err)

    def test_errors(self):
        t = server().tenant
        code, err = t.cli('list-stages', '--max-results', '500', check=False)
        self.assertNotEqual(code, 0)
        self.assertIn('(ValidationException) when calling the ListStages operation', err)
        self.assertIn('less than or equal to 100', err)
        code, err = t.cli('list-compositions', check=False)
        self.assertIn('(ValidationException)', err)
        self.assertIn('ListCompositions is not supported', err)
        code, err = t.cli('get-stage', '--arn', 'arn:aws:ivs:us-east-1:1:stage/x y', check=False)
        self.assertIn('(ValidationException)', err)


if __name__ == '__main__':
    unittest.main()

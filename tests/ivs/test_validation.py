"""The constraints botocore does not check (maxima, patterns, enums) are checked by rollcall,
each bad input answers ValidationException naming the member, and changes nothing."""
import json
import unittest

from harness import server

ARN = 'arn:aws:ivs:us-east-1:123456789012:stage/AbCdEf123456'
SESSION = 'st-AbCdEfGh12345'


class Validation(unittest.TestCase):
    def setUp(self):
        self.t = server().tenant
        self.c = self.t.client()

    def post(self, operation, body):
        r = self.t.signed('POST', '/' + operation, json.dumps(body).encode(),
                          {'Content-Type': 'application/json'})
        return r.status_code, r.json()

    def test_table(self):
        long = 'x' * 129
        cases = [
            ('CreateStage', {'name': 'x' * 129}, "at 'name'"),
            ('CreateStage', {'name': 'a.b'}, 'regular expression'),
            ('CreateStage', {'tags': {'k' * 129: 'v'}}, "'tags.key'"),
            ('CreateStage', {'tags': {'k': 'v' * 257}}, "'tags.k'"),
            ('CreateStage', {'participantTokenConfigurations': [{'duration': 0}]}, 'greater than'),
            ('CreateStage', {'participantTokenConfigurations': [{'userId': long}]}, 'userId'),
            ('CreateStage', {'participantTokenConfigurations': [{}] * 13}, 'less than or equal to 12'),
            ('CreateStage', {'autoParticipantRecordingConfiguration': {
                'storageConfigurationArn': 'arn:aws:ivs:us-east-1:1:stage/x'}}, 'storageConfigurationArn'),
            ('CreateStage', {'autoParticipantRecordingConfiguration': {
                'storageConfigurationArn': '', 'mediaTypes': ['VIDEO']}}, 'enum'),
            ('CreateStage', {'autoParticipantRecordingConfiguration': {
                'storageConfigurationArn': '', 'recordingReconnectWindowSeconds': 301}}, '300'),
            ('CreateStage', {'autoParticipantRecordingConfiguration': {
                'storageConfigurationArn': '',
                'hlsConfiguration': {'targetSegmentDurationSeconds': 1}}}, 'greater than or equal to 2'),
            ('CreateStage', {'autoParticipantRecordingConfiguration': {
                'storageConfigurationArn': 'arn:aws:ivs:us-east-1:1:storage-configuration/none'}},
             'not found'),
            ('ListStages', {'maxResults': 101}, 'less than or equal to 100'),
            ('ListStages', {'nextToken': 'x' * 1025}, 'less than or equal to 1024'),
            ('ListStages', {'nextToken': 'a b'}, 'regular expression'),
            ('GetStage', {'arn': ARN + '/extra'}, 'regular expression'),
            ('GetStage', {'arn': 'arn:aws:ivs:us-east-1:123456789012:stage/' + 'a' * 120}, '128'),
            ('UpdateStage', {'arn': ARN, 'name': 'bad name'}, 'regular expression'),
            ('CreateStorageConfiguration', {'s3': {'bucketName': 'ab'}}, 'greater than or equal to 3'),
            ('CreateStorageConfiguration', {'s3': {'bucketName': 'UPPER'}}, 'regular expression'),
            ('CreateStorageConfiguration', {'s3': {'bucketName': 'b' * 64}}, '63'),
            ('CreateStorageConfiguration', {'s3': {'bucketName': 'ok-bucket'}, 'name': 'a b'},
             'regular expression'),
            ('CreateParticipantToken', {'stageArn': ARN, 'duration': 20161}, '20160'),
            ('CreateParticipantToken', {'stageArn': ARN, 'capabilities': ['ADMIN']}, 'enum'),
            ('CreateParticipantToken', {'stageArn': ARN, 'userId': long}, "at 'userId'"),
            ('CreateParticipantToken', {'stageArn': ARN, 'attributes': {'a': 'x' * 1100}}, '1 KiB'),
            ('ListStageSessions', {'stageArn': ARN, 'maxResults': 0}, 'greater than or equal to 1'),
            ('GetStageSession', {'stageArn': ARN, 'sessionId': 'st-short'}, "at 'sessionId'"),
            ('GetParticipant', {'stageArn': ARN, 'sessionId': SESSION, 'participantId': 'a_b'},
             'regular expression'),
            ('GetParticipant', {'stageArn': ARN, 'sessionId': SESSION, 'participantId': 'p' * 65},
             '64'),
            ('ListParticipants', {'stageArn': ARN, 'sessionId': SESSION,
                                  'filterByRecordingState': 'DISABLED'}, 'enum'),
            ('ListParticipants', {'stageArn': ARN, 'sessionId': SESSION,
                                  'filterByUserId': long}, 'filterByUserId'),
            ('ListParticipants', {'stageArn': ARN, 'sessionId': SESSION,
                                  'filterByPublished': 'yes'}, 'boolean'),
            ('ListParticipantEvents', {'stageArn': ARN, 'sessionId': SESSION,
                                       'participantId': 'p', 'maxResults': 1000}, '100'),
            ('DisconnectParticipant', {'stageArn': ARN, 'participantId': 'p',
                                       'reason': 'r' * 129}, "at 'reason'"),
            ('StartParticipantReplication', {'sourceStageArn': ARN, 'destinationStageArn': ARN,
                                             'participantId': 'p',
                                             'reconnectWindowSeconds': 301}, '300'),
            ('ListParticipantReplicas', {'sourceStageArn': ARN, 'participantId': 'p',
                                         'maxResults': 51}, 'less than or equal to 50'),
            ('GetStage', {}, 'must not be null'),
        ]
        stages_before = len(self.c.list_stages(maxResults=100)['stages'])
        for operation, body, fragment in cases:
            with self.subTest(operation=operation, body=str(body)[:80]):
                status, answer = self.post(operation, body)
                self.assertEqual(status, 400, answer)
                self.assertEqual(answer['__type'], 'ValidationException')
                self.assertIn(fragment, answer['message'])
        self.assertEqual(len(self.c.list_stages(maxResults=100)['stages']), stages_before)

    def test_tag_limits(self):
        arn = self.c.create_stage(tags={'k%d' % i: 'v' for i in range(50)})['stage']['arn']
        with self.assertRaises(self.c.exceptions.ValidationException) as e:
            self.c.tag_resource(resourceArn=arn, tags={'one-more': 'v'})
        self.assertIn('at most 50 tags', e.exception.response['Error']['Message'])
        self.c.tag_resource(resourceArn=arn, tags={'k0': 'replaced'})  # not a new key
        tags = self.c.list_tags_for_resource(resourceArn=arn)['tags']
        self.assertEqual(len(tags), 50)
        self.assertEqual(tags['k0'], 'replaced')
        with self.assertRaises(self.c.exceptions.ValidationException):
            self.c.untag_resource(resourceArn=arn, tagKeys=['x' * 129])
        r = self.t.signed('DELETE', '/tags/arn%3Aaws%3Aivs%3Aus-east-1%3A1%3Astage')
        self.assertEqual(r.json()['__type'], 'ValidationException')


if __name__ == '__main__':
    unittest.main()

"""The exception class, code, message and status botocore raises for each error."""
import datetime
import json
import unittest
from unittest import mock

import botocore.auth
import botocore.exceptions
from botocore import UNSIGNED
from botocore.config import Config
import requests

from harness import join, quote_arn, server


class Errors(unittest.TestCase):
    def setUp(self):
        self.t = server().tenant
        self.c = self.t.client()
        self.arn = self.c.create_stage(name='errors')['stage']['arn']

    def assertError(self, ctx, code, status, message_part, modeled=True):
        err = ctx.exception
        self.assertIsInstance(err, botocore.exceptions.ClientError)
        self.assertEqual(err.response['Error']['Code'], code)
        self.assertEqual(err.response['ResponseMetadata']['HTTPStatusCode'], status)
        self.assertIn(message_part, err.response['Error']['Message'])
        self.assertTrue(err.response['ResponseMetadata']['RequestId'])
        if modeled:
            self.assertIs(type(err), getattr(self.c.exceptions, code))

    def test_validation_exception(self):
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.c.list_participants(stageArn=self.arn, sessionId='st-AbCdEfGh12345',
                                     maxResults=101)
        self.assertError(e, 'ValidationException', 400, 'less than or equal to 100')
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.c.get_stage(arn='arn:aws:ivs:us-east-1:123:channel/abc')
        self.assertError(e, 'ValidationException', 400, 'regular expression pattern')
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.c.get_stage_session(stageArn=self.arn, sessionId='st-has_underscore')
        self.assertError(e, 'ValidationException', 400, "at 'sessionId'")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.c.list_participants(stageArn=self.arn, sessionId='st-AbCdEfGh12345',
                                     filterByState='CONNECTED', filterByUserId='u')
        self.assertError(e, 'ValidationException', 400, 'only one of')
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.c.create_stage(name='bad name!')
        self.assertError(e, 'ValidationException', 400, "Value 'bad name!' at 'name'")

    def test_unsupported_operation(self):
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.c.list_compositions()
        self.assertError(e, 'ValidationException', 400, 'ListCompositions is not supported')
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.c.create_encoder_configuration(name='x')
        self.assertError(e, 'ValidationException', 400, 'not supported')

    def test_next_token_tampered_or_foreign(self):
        for i in range(3):
            self.c.create_stage(name='tok-%d' % i)
        token = self.c.list_stages(maxResults=1)['nextToken']
        tampered = token[:-2] + ('AA' if token[-2:] != 'AA' else 'BB')
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.c.list_stages(maxResults=1, nextToken=tampered)
        self.assertError(e, 'ValidationException', 400, 'nextToken')
        # A token of one listing is refused by another.
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.c.list_storage_configurations(nextToken=token)
        self.assertError(e, 'ValidationException', 400, 'nextToken')
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.c.list_stages(nextToken='not a token')
        self.assertError(e, 'ValidationException', 400, 'nextToken')

    def test_resource_not_found(self):
        missing = self.arn[:-12] + 'Zz0000000000'
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.c.get_stage(arn=missing)
        self.assertError(e, 'ResourceNotFoundException', 404, 'not found')
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.c.get_stage_session(stageArn=self.arn, sessionId='st-AbCdEfGh12345')
        self.assertError(e, 'ResourceNotFoundException', 404, 'not found')
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.c.list_tags_for_resource(resourceArn=missing)
        self.assertError(e, 'ResourceNotFoundException', 404, 'not found')
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.c.disconnect_participant(stageArn=self.arn, participantId='nobody')
        self.assertError(e, 'ResourceNotFoundException', 404, 'not found')

    def test_conflict(self):
        sc = self.c.create_storage_configuration(s3={'bucketName': 'conflict-bucket'})
        sc_arn = sc['storageConfiguration']['arn']
        self.c.update_stage(arn=self.arn, autoParticipantRecordingConfiguration={
            'storageConfigurationArn': sc_arn})
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.c.delete_storage_configuration(arn=sc_arn)
        self.assertError(e, 'ConflictException', 409, 'used by a stage')

    def test_unrecognized_client(self):
        c = self.t.client(access_key='AKIAUNKNOWNKEY000000')
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            c.list_stages()
        self.assertError(e, 'UnrecognizedClientException', 403, 'security token', modeled=False)

    def test_invalid_signature_wrong_secret(self):
        c = self.t.client(secret='0' * 40)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            c.list_stages()
        self.assertError(e, 'InvalidSignatureException', 403, 'signature we calculated',
                         modeled=False)

    def test_invalid_signature_skew(self):
        old = datetime.datetime.utcnow() - datetime.timedelta(minutes=16)
        with mock.patch.object(botocore.auth, 'get_current_datetime', return_value=old):
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                self.c.list_stages()
        self.assertError(e, 'InvalidSignatureException', 403, 'Signature expired', modeled=False)
        # 14 minutes off is within the window.
        near = datetime.datetime.utcnow() - datetime.timedelta(minutes=14)
        with mock.patch.object(botocore.auth, 'get_current_datetime', return_value=near):
            self.assertIn('stages', self.c.list_stages())

    def test_session_token_is_signed_and_accepted(self):
        c = self.t.client(aws_session_token='FQoGZXIvYXdzEXAMPLETOKEN')
        self.assertIn('stages', c.list_stages())

    def test_missing_authentication_through_botocore(self):
        c = self.t.client(config=Config(signature_version=UNSIGNED,
                                        retries={'max_attempts': 1}))
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            c.list_stages()
        self.assertError(e, 'MissingAuthenticationTokenException', 403,
                         'Missing Authentication Token', modeled=False)

    def test_missing_and_incomplete_authentication(self):
        r = requests.post(server().url + '/ListStages', json={})
        self.assertEqual(r.status_code, 403)
        self.assertEqual(r.headers['x-amzn-ErrorType'], 'MissingAuthenticationTokenException')
        self.assertEqual(r.json(), {'__type': 'MissingAuthenticationTokenException',
                                    'message': 'Missing Authentication Token'})
        self.assertTrue(r.headers['x-amzn-RequestId'])
        r = requests.post(server().url + '/ListStages', json={},
                          headers={'Authorization': 'AWS4-HMAC-SHA256 Credential=x'})
        self.assertEqual(r.status_code, 400)
        self.assertEqual(r.json()['__type'], 'IncompleteSignatureException')
        r = requests.get(server().url + '/tags/' + quote_arn(self.arn))
        self.assertEqual(r.status_code, 403)
        self.assertEqual(r.json()['__type'], 'MissingAuthenticationTokenException')

    def test_oversized_body_is_answered_in_the_ivs_shape(self):
        r = requests.post(server().url + '/CreateStage', data=b'{' + b' ' * 70000 + b'}',
                          headers={'Content-Type': 'application/json'})
        self.assertEqual(r.status_code, 413)
        self.assertEqual(r.headers['x-amzn-ErrorType'], 'ValidationException')
        self.assertTrue(r.headers['x-amzn-RequestId'])

    def test_wrong_method_or_path_on_ivs_paths(self):
        r = requests.get(server().url + '/CreateStage')
        self.assertEqual(r.status_code, 405)
        self.assertEqual(r.json()['__type'], 'MethodNotAllowedException')
        self.assertTrue(r.headers['x-amzn-RequestId'])
        r = requests.put(server().url + '/tags/' + quote_arn(self.arn))
        self.assertEqual(r.headers['x-amzn-ErrorType'], 'MethodNotAllowedException')
        r = requests.get(server().url + '/tags/a/b')
        self.assertEqual(r.status_code, 404)
        self.assertEqual(r.json()['__type'], 'UnknownOperationException')

    def test_client_presence_errors_use_the_instream_shape(self):
        tok = self.c.create_participant_token(stageArn=self.arn,
                                              capabilities=['SUBSCRIBE'])['participantToken']
        url = server().url
        r = join(url, 'not.a.token')
        self.assertEqual(r.status_code, 401)
        self.assertEqual(r.json()['code'], 'UNAUTHORIZED')
        forged = tok['token'][:-4] + ('AAAA' if not tok['token'].endswith('AAAA') else 'BBBB')
        self.assertEqual(join(url, forged).status_code, 401)
        self.assertEqual(join(url, tok['token'], {'protocol': 'SRT'}).json()['code'], 'BAD_REQUEST')
        self.assertEqual(join(url, tok['token'], {'osName': '<script>'}).status_code, 400)
        self.assertEqual(join(url, tok['token']).status_code, 200)
        r = join(url, tok['token'], {'state': 'STARTED'}, 'publish')
        self.assertEqual(r.status_code, 403)
        self.assertEqual(r.json()['code'], 'FORBIDDEN')
        self.assertEqual(join(url, tok['token'], {'state': 'ON'}, 'subscribe').status_code, 400)

    def test_bad_bodies_of_signed_requests(self):
        r = self.t.signed('POST', '/GetStage', b'{not json', {'Content-Type': 'application/json'})
        self.assertEqual(r.status_code, 400)
        self.assertEqual(r.headers['x-amzn-ErrorType'], 'ValidationException')
        self.assertIn('not valid JSON', r.json()['message'])
        r = self.t.signed('POST', '/GetStage', b'[1]', {'Content-Type': 'application/json'})
        self.assertEqual(r.json()['__type'], 'ValidationException')
        r = self.t.signed('POST', '/GetStage', json.dumps({'arn': 5}).encode(),
                          {'Content-Type': 'application/json'})
        self.assertEqual(r.json()['__type'], 'ValidationException')
        self.assertIn('must be a string', r.json()['message'])
        # Unsigned: the body is not even looked at.
        r = requests.post(server().url + '/GetStage', data='{not json',
                          headers={'Content-Type': 'application/json'})
        self.assertEqual(r.json()['__type'], 'MissingAuthenticationTokenException')

if __name__ == '__main__':
    unittest.main()

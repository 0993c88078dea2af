"""ListParticipants: each filter, and paging through 250 participants 100 at a time."""
import concurrent.futures
import unittest

from harness import join, paginate, server


class ListParticipantsFilters(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        t = server().tenant
        c = t.client()
        sc = c.create_storage_configuration(s3={'bucketName': 'filter-bucket'})
        cls.arn = c.create_stage(autoParticipantRecordingConfiguration={
            'storageConfigurationArn': sc['storageConfiguration']['arn']})['stage']['arn']
        cls.c = c
        # alice: publishing (recording ACTIVE); bob: published then stopped (STOPPED);
        # carol twice as user "shared": one left; dave: subscribe-only, connected.
        cls.tokens = {}
        for name, user in (('alice', 'alice'), ('bob', 'bob'), ('carol1', 'shared'),
                           ('carol2', 'shared'), ('dave', 'dave')):
            caps = ['SUBSCRIBE'] if name == 'dave' else ['PUBLISH', 'SUBSCRIBE']
            cls.tokens[name] = c.create_participant_token(
                stageArn=cls.arn, userId=user, capabilities=caps)['participantToken']
        url = server().url
        for name in ('alice', 'bob', 'carol1', 'carol2', 'dave'):
            r = join(url, cls.tokens[name]['token'])
            assert r.status_code == 200, r.text
            cls.session = r.json()['sessionId']
        for name in ('alice', 'bob'):
            assert join(url, cls.tokens[name]['token'], {'state': 'STARTED'}, 'publish').ok
        assert join(url, cls.tokens['bob']['token'], {'state': 'STOPPED'}, 'publish').ok
        assert join(url, cls.tokens['carol1']['token'], action='leave').ok

    def ids(self, **filters):
        r = self.c.list_participants(stageArn=self.arn, sessionId=self.session, **filters)
        return {p['participantId'] for p in r['participants']}

    def pid(self, *names):
        return {self.tokens[n]['participantId'] for n in names}

    def test_unfiltered(self):
        self.assertEqual(self.ids(), self.pid('alice', 'bob', 'carol1', 'carol2', 'dave'))

    def test_by_user_id(self):
        self.assertEqual(self.ids(filterByUserId='shared'), self.pid('carol1', 'carol2'))
        self.assertEqual(self.ids(filterByUserId='nobody'), set())

    def test_by_published(self):
        self.assertEqual(self.ids(filterByPublished=True), self.pid('alice', 'bob'))
        self.assertEqual(self.ids(filterByPublished=False), self.pid('carol1', 'carol2', 'dave'))

    def test_by_state(self):
        self.assertEqual(self.ids(filterByState='DISCONNECTED'), self.pid('carol1'))
        self.assertEqual(self.ids(filterByState='CONNECTED'),
                         self.pid('alice', 'bob', 'carol2', 'dave'))

    def test_by_recording_state(self):
        self.assertEqual(self.ids(filterByRecordingState='ACTIVE'), self.pid('alice'))
        self.assertEqual(self.ids(filterByRecordingState='STOPPED'), self.pid('bob'))
        self.assertEqual(self.ids(filterByRecordingState='FAILED'), set())

    def test_summary_fields(self):
        r = self.c.list_participants(stageArn=self.arn, sessionId=self.session,
                                     filterByUserId='alice')['participants'][0]
        self.assertEqual(r['userId'], 'alice')
        self.assertEqual(r['state'], 'CONNECTED')
        self.assertTrue(r['published'])
        self.assertEqual(r['recordingState'], 'ACTIVE')
        self.assertEqual(r['replicationType'], 'NONE')

    def test_two_filters_are_refused(self):
        with self.assertRaises(self.c.exceptions.ValidationException) as e:
            self.c.list_participants(stageArn=self.arn, sessionId=self.session,
                                     filterByUserId='alice', filterByPublished=True)
        self.assertIn('only one of', e.exception.response['Error']['Message'])

    def test_filtered_pages_keep_the_filter(self):
        items, pages = paginate(self.c.list_participants, 'participants', 1, stageArn=self.arn,
                                sessionId=self.session, filterByState='CONNECTED')
        self.assertEqual(pages, 4)
        self.assertEqual({p['participantId'] for p in items},
                         self.pid('alice', 'bob', 'carol2', 'dave'))
        first = self.c.list_participants(stageArn=self.arn, sessionId=self.session,
                                         filterByState='CONNECTED', maxResults=1)
        # The token belongs to that filter: using it with another filter is refused.
        with self.assertRaises(self.c.exceptions.ValidationException):
            self.c.list_participants(stageArn=self.arn, sessionId=self.session,
                                     filterByState='DISCONNECTED', maxResults=1,
                                     nextToken=first['nextToken'])


class ListParticipantsPaging(unittest.TestCase):
    def test_250_participants_in_pages_of_100(self):
        t = server().tenant
        c = t.client()
        app = t.new_application()
        sid = t.instream('POST', '/applications/sessions', app['apiKey']).json()['sessionId']

        def enter(i):
            r = t.instream('POST', '/applications/sessions/%s/participants/enter' % sid,
                           app['apiKey'], {'participantId': 'user-%03d' % i, 'nickname': 'n%d' % i})
            assert r.status_code == 201, r.text

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(enter, range(250)))
        st = c.get_stage(arn=app['stageArn'])['stage']['activeSessionId']

        pages, token, seen = [], None, []
        while True:
            kwargs = {'stageArn': app['stageArn'], 'sessionId': st, 'maxResults': 100}
            if token:
                kwargs['nextToken'] = token
            r = c.list_participants(**kwargs)
            pages.append(len(r['participants']))
            seen += r['participants']
            token = r.get('nextToken')
            if len(pages) == 1:
                # Participants joining mid-listing come after (later firstJoinTime): the
                # pages neither repeat nor skip anyone who was there.
                for i in range(250, 255):
                    enter(i)
            if not token:
                break
        self.assertEqual(pages, [100, 100, 55])
        ids = [p['participantId'] for p in seen]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual(set(ids), {'user-%03d' % i for i in range(255)})
        keys = [(p['firstJoinTime'], p['participantId']) for p in seen]
        self.assertEqual(keys, sorted(keys))


if __name__ == '__main__':
    unittest.main()

"""The shared backend contract, unchanged, against a real mongod running as a replica set."""

import pytest

from ncm_mongo.testing import MongoContract


class TestMongoContract(MongoContract):
    @pytest.fixture
    def database_url(self, mongo_url):
        return mongo_url

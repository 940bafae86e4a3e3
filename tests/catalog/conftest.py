"""Small real projects for the catalog tests: sources, SQL and Python products."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import write as put


@pytest.fixture
def people(tmp_path: Path) -> Path:
    """raw.people (email is pii) -> staging.people (email renamed to contact) ->
    marts.mailing (select * + a derived column), marts.stats (aggregates), and a Python
    product reading staging.people."""
    root = tmp_path / "people"
    put(root, "steward.yaml", """\
        name: people
        defaults: {owner: data@example.com}
    """)
    put(root, "data/people.csv", """\
        id,email,country,signup
        1,ada@example.com,UK,2026-01-01
        2,grace@example.com,US,2026-01-02
        3,linus@example.com,FI,2026-01-03
    """)
    put(root, "glossary.yaml", """\
        terms:
          customer:
            definition: A person who bought something from the shop.
            synonyms: [client, buyer]
            owners: [sales@example.com]
            related: [country]
          country:
            definition: ISO 3166 country of residence.
            synonyms: [nation]
            related: [customer]
    """)
    put(root, "sources/raw.yml", """\
        sources:
          raw.people:
            path: data/people.csv
            description: People who signed up in the shop.
            owner: shop@example.com
            tags: [crm]
            columns:
              id: {type: INTEGER, glossary: customer}
              email: {type: VARCHAR, classification: pii, description: Login e-mail}
              country: {type: VARCHAR, glossary: country}
              signup: {type: DATE}
    """)
    put(root, "models/staging/people.sql", """\
        select id as person_id, lower(email) as contact, country, signup
        from raw.people
    """)
    put(root, "models/staging/people.yml", """\
        description: Cleaned sign-ups with one contact address per person.
        owner: data@example.com
        columns:
          person_id: {description: Customer number, glossary: customer}
          contact: {description: Where to write to}
    """)
    put(root, "models/marts/mailing.sql", """\
        with base as (select * from staging.people)
        select *, upper(country) as country_code from base
    """)
    put(root, "models/marts/stats.sql", """\
        select country, count(*) as people, count(distinct contact) as contacts
        from staging.people group by country
    """)
    put(root, "models/marts/stats.yml", """\
        description: Sign-ups per country of residence.
        owner: bi@example.com
        tags: [kpi]
        columns:
          contacts: {classification: [], description: A count is not personal data}
    """)
    put(root, "models/ml/features.py", """\
        from steward import product

        @product(name="ml.features", columns={"person_id": {}, "contact": {}})
        def features(staging__people):
            return staging__people
    """)
    return root

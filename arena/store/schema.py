"""The database schema as numbered migrations; the applied ones are recorded in the file itself.

Never edit a migration that has shipped: add the next one. `docs/schema.md` documents every
table and column and must stay true. The two big tables, `events` and `decisions`, carry no CHECK
constraints: the recorder writes only known values, and a CHECK costs about 0.4 µs a row, a
quarter of what SQLite spends inserting one (bench/recording.py).
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "matches, seats, hands, events, decisions",
        [
            """CREATE TABLE matches (
                id INTEGER PRIMARY KEY,
                batch TEXT NOT NULL,
                batch_index INTEGER NOT NULL,
                game TEXT NOT NULL,
                preset TEXT NOT NULL,
                seed INTEGER NOT NULL,
                config TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('running', 'finished')),
                result TEXT,
                hands INTEGER,
                software_version TEXT NOT NULL,
                created_at TEXT NOT NULL,
                finished_at TEXT,
                UNIQUE (batch, batch_index)
            )""",
            """CREATE TABLE seats (
                match_id INTEGER NOT NULL REFERENCES matches(id),
                seat INTEGER NOT NULL,
                name TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('human', 'bot', 'llm')),
                persona TEXT,
                model TEXT,
                params TEXT NOT NULL,
                placement INTEGER,
                score REAL,
                winner INTEGER,
                PRIMARY KEY (match_id, seat)
            )""",
            """CREATE TABLE hands (
                match_id INTEGER NOT NULL REFERENCES matches(id),
                hand INTEGER NOT NULL,
                start_seq INTEGER NOT NULL,
                end_seq INTEGER,
                summary TEXT NOT NULL,
                outcome TEXT,
                PRIMARY KEY (match_id, hand)
            )""",
            """CREATE TABLE events (
                match_id INTEGER NOT NULL REFERENCES matches(id),
                seq INTEGER NOT NULL,
                hand INTEGER NOT NULL,
                kind TEXT NOT NULL,
                actor INTEGER,
                audience TEXT NOT NULL,
                audience_seats TEXT,
                payload TEXT NOT NULL,
                PRIMARY KEY (match_id, seq)
            )""",
            """CREATE TABLE decisions (
                match_id INTEGER NOT NULL REFERENCES matches(id),
                seq INTEGER NOT NULL,
                event_seq INTEGER NOT NULL,
                hand INTEGER NOT NULL,
                seat INTEGER NOT NULL,
                kind TEXT NOT NULL,
                legal_actions TEXT NOT NULL,
                action TEXT NOT NULL,
                talk TEXT NOT NULL,
                source TEXT NOT NULL,
                error TEXT,
                latency_ms REAL NOT NULL,
                PRIMARY KEY (match_id, seq)
            )""",
        ],
    ),
]

MIGRATIONS.append(
    (
        2,
        "llm_calls",
        [
            """CREATE TABLE llm_calls (
                match_id INTEGER NOT NULL REFERENCES matches(id),
                decision_seq INTEGER NOT NULL,
                purpose TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                seat INTEGER NOT NULL,
                model TEXT NOT NULL,
                messages TEXT NOT NULL,
                response_schema INTEGER NOT NULL,
                raw_output TEXT,
                parsed TEXT,
                valid INTEGER NOT NULL,
                invalid_reason TEXT,
                prompt_tokens INTEGER,
                completion_tokens INTEGER,
                reasoning_tokens INTEGER,
                cost_usd REAL,
                latency_ms REAL NOT NULL,
                error_class TEXT,
                error TEXT,
                created_at TEXT NOT NULL,
                PRIMARY KEY (match_id, decision_seq, purpose, attempt)
            )""",
        ],
    )
)

MIGRATIONS.append(
    (
        3,
        "observer condition of matches and decisions",
        [
            "ALTER TABLE matches ADD COLUMN observer TEXT NOT NULL DEFAULT 'off'",
            "ALTER TABLE decisions ADD COLUMN observer TEXT NOT NULL DEFAULT 'off'",
        ],
    )
)

LATEST = MIGRATIONS[-1][0]

-- One-shot messages for the next page of a session (a new token's secret after the redirect):
-- taken once with DELETE … RETURNING. The value is sealed with a key the database does not hold.
CREATE TABLE avvisi_sessione (
    id TEXT PRIMARY KEY,
    sessione TEXT NOT NULL,
    valore TEXT NOT NULL,
    creato_il TEXT NOT NULL
);

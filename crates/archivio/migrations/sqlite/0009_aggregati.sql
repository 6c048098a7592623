-- The dashboards' aggregates (issue 11): per entity and domain, the counts and integer-cent sums
-- of its accepted register, one set of rows per accepted snapshot, valid over the same interval
-- as the register versions that snapshot made current (valido_dal <= D AND (valido_al IS NULL
-- OR valido_al > D)). Written by the merge in its own transaction, so they change exactly when
-- the register does; a dashboard "as of D" reads a few hundred rows instead of a million.
CREATE TABLE aggregati (
    id INTEGER PRIMARY KEY,
    ente TEXT NOT NULL,
    dominio TEXT NOT NULL,
    -- The accepted flow that made this snapshot current (NULL: computed from the register).
    flusso BIGINT,
    valido_dal DATE NOT NULL,
    valido_al DATE,
    -- What is counted (e.g. 'unita'), and the group's values joined by '|'.
    misura TEXT NOT NULL,
    chiave TEXT NOT NULL,
    numero BIGINT NOT NULL,
    -- Integer cents (never a float).
    importo BIGINT NOT NULL
);
CREATE INDEX aggregati_correnti ON aggregati (ente, dominio) WHERE valido_al IS NULL;
CREATE INDEX aggregati_storia ON aggregati (valido_dal, ente);

-- One row here asks the next start to recompute every aggregate from the register (history
-- included): the data accepted before this migration, and any later change of what is counted.
CREATE TABLE aggregati_ricalcolo (richiesto INTEGER NOT NULL);
INSERT INTO aggregati_ricalcolo (richiesto) VALUES (1);

-- no-transaction
-- Withdrawn flows (state `ritirato`, spec README §4), the reason required for large removals
-- (`motivazione_rimozioni`), and the other entity named by an issue, kept for the Region only
-- (`segnalazioni.altro_ente`: `catasto_conteso` must not tell an entity who holds a unit).
--
-- SQLite cannot alter a CHECK constraint: `flussi` is rebuilt with the procedure of the SQLite
-- manual (foreign keys off outside the transaction, copy, drop, rename, check, commit). The
-- tables that reference `flussi (id)` keep referring to it by name.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE flussi_nuovo (
    id INTEGER PRIMARY KEY,
    ente TEXT NOT NULL REFERENCES enti (codice),
    dominio TEXT NOT NULL CHECK (dominio IN ('patrimonio', 'contabilita', 'programmi')),
    stato TEXT NOT NULL CHECK (stato IN ('caricato', 'in_validazione', 'non_valido', 'valido', 'inviato', 'accettato', 'respinto', 'superato', 'ritirato')),
    nome_file TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    dimensione BIGINT NOT NULL,
    caricato_il TEXT NOT NULL,
    caricato_da TEXT NOT NULL,
    valido BOOLEAN,
    errori BIGINT,
    avvisi BIGINT,
    righe BIGINT,
    righe_lette BIGINT NOT NULL DEFAULT 0,
    righe_stimate BIGINT,
    validato_il TEXT,
    firmatario TEXT,
    differenze_base BIGINT,
    differenze TEXT,
    protocollo TEXT UNIQUE,
    inviato_il TEXT,
    inviato_da TEXT,
    avvisi_confermati BIGINT,
    esito_il TEXT,
    esito_da TEXT,
    motivazione TEXT,
    superato_da BIGINT,
    motivazione_rimozioni TEXT,
    ritirato_il TEXT,
    ritirato_da TEXT
);
INSERT INTO flussi_nuovo (id, ente, dominio, stato, nome_file, sha256, dimensione, caricato_il,
    caricato_da, valido, errori, avvisi, righe, righe_lette, righe_stimate, validato_il, firmatario,
    differenze_base, differenze, protocollo, inviato_il, inviato_da, avvisi_confermati, esito_il,
    esito_da, motivazione, superato_da)
SELECT id, ente, dominio, stato, nome_file, sha256, dimensione, caricato_il, caricato_da, valido,
    errori, avvisi, righe, righe_lette, righe_stimate, validato_il, firmatario, differenze_base,
    differenze, protocollo, inviato_il, inviato_da, avvisi_confermati, esito_il, esito_da,
    motivazione, superato_da
FROM flussi;
DROP TABLE flussi;
ALTER TABLE flussi_nuovo RENAME TO flussi;
CREATE UNIQUE INDEX flussi_contenuto ON flussi (ente, dominio, sha256);
CREATE INDEX flussi_ente ON flussi (ente, dominio, id);
CREATE INDEX flussi_stato ON flussi (stato, id);
ALTER TABLE segnalazioni ADD COLUMN altro_ente TEXT;
COMMIT;
PRAGMA foreign_keys = ON;

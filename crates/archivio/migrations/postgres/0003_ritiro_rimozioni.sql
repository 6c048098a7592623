-- Withdrawn flows (state `ritirato`, spec README §4), the reason required for large removals
-- (`motivazione_rimozioni`), and the other entity named by an issue, kept for the Region only
-- (`segnalazioni.altro_ente`: `catasto_conteso` must not tell an entity who holds a unit).
ALTER TABLE flussi DROP CONSTRAINT flussi_stato_check;
ALTER TABLE flussi ADD CONSTRAINT flussi_stato_check CHECK (stato IN ('caricato', 'in_validazione', 'non_valido', 'valido', 'inviato', 'accettato', 'respinto', 'superato', 'ritirato'));
ALTER TABLE flussi ADD COLUMN motivazione_rimozioni TEXT;
ALTER TABLE flussi ADD COLUMN ritirato_il TIMESTAMPTZ;
ALTER TABLE flussi ADD COLUMN ritirato_da TEXT;
ALTER TABLE segnalazioni ADD COLUMN altro_ente TEXT;

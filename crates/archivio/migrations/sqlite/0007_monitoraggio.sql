-- Monitoring: the entity's institutional PEC address in the registry, collection campaigns
-- (raccolte) with their targets, reminder templates and the log of reminders sent.

-- The PEC address of the entity's protocol office (IndicePA), known before any registration:
-- reminders to an entity that has not registered go there.
ALTER TABLE enti ADD COLUMN pec TEXT;

CREATE TABLE raccolte (
    id INTEGER PRIMARY KEY,
    titolo TEXT NOT NULL,
    dominio TEXT NOT NULL CHECK (dominio IN ('patrimonio', 'contabilita')),
    -- Flows uploaded from this instant count for the campaign.
    aperta_il TEXT NOT NULL,
    aperta_da TEXT NOT NULL,
    -- Rome dates: late after the deadline; no more submissions after the closing date.
    scadenza DATE NOT NULL,
    chiusura DATE NOT NULL,
    -- How the targets were chosen (shown on the campaign's page).
    selezione TEXT NOT NULL,
    CHECK (chiusura >= scadenza)
);

CREATE TABLE raccolte_enti (
    raccolta BIGINT NOT NULL REFERENCES raccolte (id),
    ente TEXT NOT NULL REFERENCES enti (codice),
    -- "Nothing to report": counts as compliant and stops the reminders.
    nulla_il TEXT,
    nulla_da TEXT,
    nulla_motivo TEXT,
    PRIMARY KEY (raccolta, ente)
);
CREATE INDEX raccolte_enti_ente ON raccolte_enti (ente);

CREATE TABLE modelli_sollecito (
    codice TEXT PRIMARY KEY,
    titolo TEXT NOT NULL,
    oggetto TEXT NOT NULL,
    corpo TEXT NOT NULL,
    modificato_il TEXT NOT NULL,
    modificato_da TEXT NOT NULL
);

-- Each message that carries a reminder is an outbox row (messaggi.sollecito = id): its
-- delivery state is the reminder's outcome.
CREATE TABLE solleciti (
    id INTEGER PRIMARY KEY,
    ente TEXT NOT NULL REFERENCES enti (codice),
    -- Why the entity owes: pilota_non_registrato, senza_flusso_accettato, in_ritardo.
    motivo TEXT NOT NULL,
    raccolta BIGINT REFERENCES raccolte (id),
    modello TEXT NOT NULL,
    canale TEXT NOT NULL CHECK (canale IN ('email', 'pec')),
    destinatari TEXT NOT NULL,
    oggetto TEXT NOT NULL,
    corpo TEXT NOT NULL,
    -- Set when no address was known: nothing could be sent.
    errore TEXT,
    inviato_il TEXT NOT NULL,
    inviato_da TEXT NOT NULL,
    -- The reminder this one escalates (to the PEC address), and when this one was escalated.
    escalation_di BIGINT REFERENCES solleciti (id),
    escalato_il TEXT,
    -- What the escalation check found: inviata (sent to the PEC address), non_necessaria (the
    -- entity no longer owed anything), senza_pec (no PEC address known).
    esito_escalation TEXT
);
CREATE INDEX solleciti_ente ON solleciti (ente, id);
CREATE INDEX solleciti_da_escalare ON solleciti (escalato_il, inviato_il);

-- The Region's monitoring settings (one row; absent = defaults).
CREATE TABLE impostazioni_monitoraggio (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    -- After so many days an unanswered e-mail reminder goes to the entity's PEC address.
    giorni_escalazione BIGINT NOT NULL,
    modificato_il TEXT NOT NULL,
    modificato_da TEXT NOT NULL
);

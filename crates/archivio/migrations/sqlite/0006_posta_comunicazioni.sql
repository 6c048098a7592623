-- The outbox (posta in uscita): every e-mail and PEC message the platform sends is written here
-- in the same transaction as the change it tells about, and sent later by the sender loop of
-- `push serve` (servizi::posta). One row per recipient, so each delivery has its own state.
-- stato: in_coda (waiting, maybe for a retry at prossimo_tentativo), in_invio (taken by one
-- sender until scade_il), inviato, in_errore (given up after the attempts; can be queued again).
CREATE TABLE messaggi (
    id INTEGER PRIMARY KEY,
    tipo TEXT NOT NULL,
    canale TEXT NOT NULL CHECK (canale IN ('email', 'pec')),
    destinatario TEXT NOT NULL,
    persona TEXT,
    ente TEXT REFERENCES enti (codice),
    flusso BIGINT,
    sollecito BIGINT,
    oggetto TEXT NOT NULL,
    testo TEXT NOT NULL,
    html TEXT NOT NULL,
    id_messaggio TEXT NOT NULL UNIQUE,
    stato TEXT NOT NULL CHECK (stato IN ('in_coda', 'in_invio', 'inviato', 'in_errore')),
    tentativi INTEGER NOT NULL DEFAULT 0,
    ultimo_errore TEXT,
    prossimo_tentativo TEXT NOT NULL,
    esecutore TEXT,
    scade_il TEXT,
    trasporto TEXT,
    creato_il TEXT NOT NULL,
    inviato_il TEXT
);
CREATE INDEX messaggi_da_inviare ON messaggi (stato, prossimo_tentativo);
CREATE INDEX messaggi_ente ON messaggi (ente, id);
CREATE INDEX messaggi_persona ON messaggi (persona, id);
CREATE INDEX messaggi_flusso ON messaggi (flusso);
CREATE INDEX messaggi_sollecito ON messaggi (sollecito);

-- News (comunicazioni) published by the Region: Markdown body (rendered and sanitised when
-- shown), an audience, an optional banner period; attachments live in the file store by hash.
CREATE TABLE comunicazioni (
    id INTEGER PRIMARY KEY,
    titolo TEXT NOT NULL,
    corpo TEXT NOT NULL,
    data TEXT NOT NULL,
    pubblico TEXT NOT NULL CHECK (pubblico IN ('pubblico', 'enti', 'selezione')),
    banner_dal TEXT,
    banner_al TEXT,
    creata_il TEXT NOT NULL,
    creata_da TEXT NOT NULL,
    ritirata_il TEXT
);
CREATE INDEX comunicazioni_data ON comunicazioni (data, id);

CREATE TABLE comunicazioni_enti (
    comunicazione BIGINT NOT NULL REFERENCES comunicazioni (id),
    ente TEXT NOT NULL REFERENCES enti (codice),
    PRIMARY KEY (comunicazione, ente)
);
CREATE INDEX comunicazioni_enti_ente ON comunicazioni_enti (ente);

CREATE TABLE comunicazioni_allegati (
    id INTEGER PRIMARY KEY,
    comunicazione BIGINT NOT NULL REFERENCES comunicazioni (id),
    nome TEXT NOT NULL,
    tipo TEXT NOT NULL,
    dimensione BIGINT NOT NULL,
    sha256 TEXT NOT NULL
);
CREATE INDEX comunicazioni_allegati_com ON comunicazioni_allegati (comunicazione);

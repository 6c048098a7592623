-- Foundation schema (SQLite). Timestamps are bound from Rust (RFC 3339 text), never defaulted here.
CREATE TABLE enti (
    codice TEXT PRIMARY KEY,
    tipo TEXT NOT NULL CHECK (tipo IN ('COMUNE', 'ARCA', 'REGIONE')),
    denominazione TEXT NOT NULL,
    sigla_provincia TEXT,
    codice_provincia TEXT,
    codice_catastale TEXT,
    popolazione BIGINT,
    comune_sede TEXT,
    province_competenza TEXT,
    pilota BOOLEAN NOT NULL DEFAULT FALSE,
    registrato_il TEXT
);

CREATE TABLE persone (
    cf TEXT PRIMARY KEY,
    nome TEXT NOT NULL,
    email TEXT,
    creata_il TEXT NOT NULL,
    ultimo_accesso TEXT
);

CREATE TABLE registrazioni (
    id INTEGER PRIMARY KEY,
    ente TEXT NOT NULL REFERENCES enti (codice),
    cf TEXT NOT NULL REFERENCES persone (cf),
    nome TEXT NOT NULL,
    pec TEXT NOT NULL,
    telefono TEXT NOT NULL,
    email TEXT NOT NULL,
    stato TEXT NOT NULL CHECK (stato IN ('IN_ATTESA', 'APPROVATA', 'RESPINTA')),
    motivazione TEXT,
    richiesta_il TEXT NOT NULL,
    decisa_il TEXT,
    decisa_da TEXT
);
-- At most one pending or approved registration per entity.
CREATE UNIQUE INDEX registrazioni_attive ON registrazioni (ente) WHERE stato IN ('IN_ATTESA', 'APPROVATA');

CREATE TABLE incarichi (
    id INTEGER PRIMARY KEY,
    cf TEXT NOT NULL REFERENCES persone (cf),
    ente TEXT NOT NULL REFERENCES enti (codice),
    ruolo TEXT NOT NULL CHECK (ruolo IN ('AMMINISTRATORE', 'ISTRUTTORE', 'LEGALE_RAPPRESENTANTE', 'REFERENTE')),
    aree TEXT NOT NULL DEFAULT '',
    email TEXT,
    conferito_il TEXT NOT NULL,
    conferito_da TEXT NOT NULL,
    revocato_il TEXT,
    revocato_da TEXT,
    motivo_revoca TEXT
);
CREATE UNIQUE INDEX incarichi_attivi ON incarichi (cf, ente, ruolo) WHERE revocato_il IS NULL;
CREATE INDEX incarichi_ente ON incarichi (ente);

CREATE TABLE sessioni (
    id TEXT PRIMARY KEY,
    cf TEXT NOT NULL REFERENCES persone (cf),
    metodo TEXT NOT NULL,
    creata_il TEXT NOT NULL,
    scade_il TEXT NOT NULL
);

CREATE TABLE accessi_oidc (
    stato TEXT PRIMARY KEY,
    verificatore TEXT NOT NULL,
    nonce TEXT NOT NULL,
    creato_il TEXT NOT NULL
);

CREATE TABLE token (
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    ente TEXT NOT NULL REFERENCES enti (codice),
    aree TEXT NOT NULL DEFAULT '',
    nome TEXT NOT NULL,
    creato_il TEXT NOT NULL,
    creato_da TEXT NOT NULL,
    revocato_il TEXT,
    revocato_da TEXT
);

CREATE TABLE audit (
    seq BIGINT PRIMARY KEY,
    istante TEXT NOT NULL,
    attore TEXT NOT NULL,
    ente TEXT,
    azione TEXT NOT NULL,
    oggetto TEXT NOT NULL,
    dettagli TEXT NOT NULL,
    hash_precedente TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_ente ON audit (ente);

CREATE TABLE audit_testa (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    ultimo_seq BIGINT NOT NULL,
    ultimo_hash TEXT NOT NULL
);
INSERT INTO audit_testa (id, ultimo_seq, ultimo_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Flows, their background jobs, protocol numbers and the asset register with history (SQLite).

-- One uploaded file of one entity for one domain, through its lifecycle (spec README §4).
CREATE TABLE flussi (
    id INTEGER PRIMARY KEY,
    ente TEXT NOT NULL REFERENCES enti (codice),
    dominio TEXT NOT NULL CHECK (dominio IN ('patrimonio', 'contabilita', 'programmi')),
    stato TEXT NOT NULL CHECK (stato IN ('caricato', 'in_validazione', 'non_valido', 'valido', 'inviato', 'accettato', 'respinto', 'superato')),
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
    superato_da BIGINT
);
-- The same bytes sent again by the same entity for the same domain are the same flow.
CREATE UNIQUE INDEX flussi_contenuto ON flussi (ente, dominio, sha256);
CREATE INDEX flussi_ente ON flussi (ente, dominio, id);
CREATE INDEX flussi_stato ON flussi (stato, id);

-- Protocol numbers: one counter per year, incremented inside the submitting transaction so
-- that a rolled-back submission leaves no gap.
CREATE TABLE protocolli (
    anno INTEGER PRIMARY KEY,
    ultimo BIGINT NOT NULL
);

-- The durable job queue. A worker takes a job with a lease (scade_il) and renews it while it
-- works; a job whose lease expired is taken again by another worker.
CREATE TABLE lavori (
    id INTEGER PRIMARY KEY,
    tipo TEXT NOT NULL CHECK (tipo IN ('validazione', 'differenze')),
    flusso BIGINT NOT NULL REFERENCES flussi (id),
    stato TEXT NOT NULL CHECK (stato IN ('in_coda', 'in_corso', 'fatto', 'fallito')),
    tentativi INTEGER NOT NULL DEFAULT 0,
    esecutore TEXT,
    scade_il TEXT,
    creato_il TEXT NOT NULL,
    iniziato_il TEXT,
    finito_il TEXT,
    errore TEXT
);
CREATE INDEX lavori_da_fare ON lavori (stato, id);

-- The issues of a flow's report (at most 10 000, as the report), for paging and filtering.
CREATE TABLE segnalazioni (
    flusso BIGINT NOT NULL REFERENCES flussi (id),
    n INTEGER NOT NULL,
    tabella TEXT,
    riga BIGINT,
    campo TEXT,
    valore TEXT,
    codice TEXT NOT NULL,
    gravita TEXT NOT NULL,
    messaggio TEXT NOT NULL,
    PRIMARY KEY (flusso, n)
);

-- The rows that had an error, with their values as read (JSON object), at most 10 000.
CREATE TABLE righe_errate (
    flusso BIGINT NOT NULL REFERENCES flussi (id),
    tabella TEXT NOT NULL,
    riga BIGINT NOT NULL,
    valori TEXT NOT NULL,
    PRIMARY KEY (flusso, tabella, riga)
);

-- The difference of a valid flow against the entity's register (computed against the
-- register as it was after flow `flussi.differenze_base`).
CREATE TABLE differenze (
    flusso BIGINT NOT NULL REFERENCES flussi (id),
    tabella TEXT NOT NULL,
    tipo TEXT NOT NULL CHECK (tipo IN ('aggiunto', 'modificato', 'rimosso')),
    chiave TEXT NOT NULL,
    campi TEXT,
    PRIMARY KEY (flusso, tabella, tipo, chiave)
);

-- Register of `complessi`: one row per version. The current version has valido_al NULL; nothing
-- is ever deleted. Fields are the spec's, as canonical text. No foreign keys: rows are written
-- only by the merge, which holds the entity and the flow locked, and entities and flows are never
-- deleted; the per-row checks halved the speed of loading a million units (bench/registro.sh).
CREATE TABLE reg_complessi (
    id INTEGER PRIMARY KEY,
    ente TEXT NOT NULL,
    chiave TEXT NOT NULL,
    impronta BIGINT NOT NULL,
    valido_dal DATE NOT NULL,
    valido_al DATE,
    flusso_dal BIGINT NOT NULL,
    flusso_al BIGINT,
    codice_complesso TEXT,
    denominazione TEXT,
    comune_istat TEXT,
    note TEXT
);
CREATE UNIQUE INDEX reg_complessi_corrente ON reg_complessi (ente, chiave) WHERE valido_al IS NULL;
CREATE INDEX reg_complessi_storia ON reg_complessi (ente, chiave, valido_dal);

-- Register of `fabbricati`: one row per version. The current version has valido_al NULL; nothing
-- is ever deleted. Fields are the spec's, as canonical text.
CREATE TABLE reg_fabbricati (
    id INTEGER PRIMARY KEY,
    ente TEXT NOT NULL,
    chiave TEXT NOT NULL,
    impronta BIGINT NOT NULL,
    valido_dal DATE NOT NULL,
    valido_al DATE,
    flusso_dal BIGINT NOT NULL,
    flusso_al BIGINT,
    codice_fabbricato TEXT,
    codice_complesso TEXT,
    comune_istat TEXT,
    indirizzo TEXT,
    numero_civico TEXT,
    cap TEXT,
    latitudine TEXT,
    longitudine TEXT,
    foglio TEXT,
    particella TEXT,
    anno_costruzione TEXT,
    numero_piani TEXT,
    ascensore TEXT,
    titolo_possesso TEXT,
    cf_proprietario TEXT,
    stato_conservazione TEXT
);
CREATE UNIQUE INDEX reg_fabbricati_corrente ON reg_fabbricati (ente, chiave) WHERE valido_al IS NULL;
CREATE INDEX reg_fabbricati_storia ON reg_fabbricati (ente, chiave, valido_dal);

-- Register of `unita`: one row per version. The current version has valido_al NULL; nothing
-- is ever deleted. Fields are the spec's, as canonical text.
CREATE TABLE reg_unita (
    id INTEGER PRIMARY KEY,
    ente TEXT NOT NULL,
    chiave TEXT NOT NULL,
    impronta BIGINT NOT NULL,
    valido_dal DATE NOT NULL,
    valido_al DATE,
    flusso_dal BIGINT NOT NULL,
    flusso_al BIGINT,
    catasto TEXT,
    codice_unita TEXT,
    codice_fabbricato TEXT,
    tipologia TEXT,
    sezione_urbana TEXT,
    foglio TEXT,
    particella TEXT,
    subalterno TEXT,
    categoria_catastale TEXT,
    rendita_catastale TEXT,
    piano TEXT,
    scala TEXT,
    interno TEXT,
    superficie_utile_mq TEXT,
    numero_vani TEXT,
    classe_energetica TEXT,
    accessibile_disabili TEXT,
    regime TEXT,
    stato_occupazione TEXT,
    data_assegnazione TEXT,
    canone_mensile TEXT,
    numero_occupanti TEXT,
    anno_ultimo_intervento TEXT,
    cup_ultimo_intervento TEXT
);
CREATE UNIQUE INDEX reg_unita_corrente ON reg_unita (ente, chiave) WHERE valido_al IS NULL;
CREATE INDEX reg_unita_storia ON reg_unita (ente, chiave, valido_dal);

CREATE INDEX reg_unita_fabbricato ON reg_unita (ente, codice_fabbricato);
CREATE INDEX reg_unita_catasto ON reg_unita (catasto) WHERE valido_al IS NULL;
CREATE INDEX reg_fabbricati_comune ON reg_fabbricati (comune_istat);

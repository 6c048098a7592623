//! Flows, their report issues, error rows and differences, the job queue and the protocol
//! counter.

use chrono::{DateTime, Utc};
use dominio::{CodiceEnte, DominioFlusso, StatoFlusso};
use serde::Serialize;

use crate::{Archivio, ErroreArchivio, Pool, Risultato, Tx, TxInner, su_pool, su_tx};

/// A flow as stored.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Flusso {
    pub id: i64,
    pub ente: CodiceEnte,
    pub denominazione_ente: String,
    pub dominio: DominioFlusso,
    pub stato: StatoFlusso,
    pub nome_file: String,
    pub sha256: String,
    pub dimensione: i64,
    pub caricato_il: DateTime<Utc>,
    pub caricato_da: String,
    pub valido: Option<bool>,
    pub errori: Option<i64>,
    pub avvisi: Option<i64>,
    pub righe: Option<i64>,
    pub righe_lette: i64,
    pub righe_stimate: Option<i64>,
    pub validato_il: Option<DateTime<Utc>>,
    pub firmatario: Option<String>,
    pub differenze_base: Option<i64>,
    pub differenze: Option<String>,
    pub protocollo: Option<String>,
    pub inviato_il: Option<DateTime<Utc>>,
    pub inviato_da: Option<String>,
    pub avvisi_confermati: Option<i64>,
    pub esito_il: Option<DateTime<Utc>>,
    pub esito_da: Option<String>,
    pub motivazione: Option<String>,
    pub superato_da: Option<i64>,
    /// The referent's reason for a large removal (spec README §4), written when submitting.
    pub motivazione_rimozioni: Option<String>,
    pub ritirato_il: Option<DateTime<Utc>>,
    pub ritirato_da: Option<String>,
}

const SELEZIONE: &str = "SELECT f.id, f.ente, e.denominazione AS denominazione_ente, f.dominio, f.stato, \
     f.nome_file, f.sha256, f.dimensione, f.caricato_il, f.caricato_da, f.valido, f.errori, f.avvisi, \
     f.righe, f.righe_lette, f.righe_stimate, f.validato_il, f.firmatario, f.differenze_base, \
     f.differenze, f.protocollo, f.inviato_il, f.inviato_da, f.avvisi_confermati, f.esito_il, \
     f.esito_da, f.motivazione, f.superato_da, f.motivazione_rimozioni, f.ritirato_il, f.ritirato_da \
     FROM flussi f JOIN enti e ON e.codice = f.ente";

/// A new flow, just stored.
pub struct NuovoFlusso<'a> {
    pub ente: &'a str,
    pub dominio: DominioFlusso,
    pub nome_file: &'a str,
    pub sha256: &'a str,
    pub dimensione: i64,
    pub caricato_da: &'a str,
}

/// Filters of the flow list.
#[derive(Clone, Debug, Default)]
pub struct FiltroFlussi {
    pub ente: Option<CodiceEnte>,
    pub dominio: Option<DominioFlusso>,
    pub stato: Option<StatoFlusso>,
    /// Only flows with `id` below this (paging backwards from the newest).
    pub prima_di: Option<i64>,
    pub limite: i64,
}

/// One issue of a report, as stored for paging.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct SegnalazioneRiga {
    pub n: i32,
    pub tabella: Option<String>,
    pub riga: Option<i64>,
    pub campo: Option<String>,
    pub valore: Option<String>,
    pub codice: String,
    pub gravita: String,
    pub messaggio: String,
    /// The other entity the issue concerns (`catasto_conteso`: who holds the unit). Shown to
    /// the Region only: an entity must not learn another's register from its own report.
    pub altro_ente: Option<String>,
}

/// Filters of a report's issues.
#[derive(Clone, Debug, Default)]
pub struct FiltroSegnalazioni {
    pub tabella: Option<String>,
    pub codice: Option<String>,
    pub gravita: Option<String>,
}

/// A row in error with its values as read (a JSON object).
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct RigaErrata {
    pub tabella: String,
    pub riga: i64,
    pub valori: String,
}

/// One difference of a flow against the register.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Differenza {
    pub tabella: String,
    pub tipo: String,
    pub chiave: String,
    /// For `modificato`: a JSON array of `[campo, vecchio, nuovo]`.
    pub campi: Option<String>,
}

/// A job taken by a worker.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Lavoro {
    pub id: i64,
    pub tipo: String,
    pub flusso: i64,
    pub tentativi: i32,
}

/// A job as listed (for tests and monitoring).
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct LavoroRiga {
    pub id: i64,
    pub tipo: String,
    pub flusso: i64,
    pub stato: String,
    pub tentativi: i32,
    pub esecutore: Option<String>,
    pub errore: Option<String>,
}

impl Archivio {
    pub async fn flusso(&self, id: i64) -> Risultato<Option<Flusso>> {
        let sql = format!("{SELEZIONE} WHERE f.id = $1");
        let v = su_pool!(self, p => sqlx::query_as::<_, Flusso>(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_optional(p).await)?;
        Ok(v)
    }

    /// The flow of an entity and domain with these bytes, if already uploaded.
    pub async fn flusso_per_contenuto(
        &self,
        ente: &str,
        dominio: DominioFlusso,
        sha256: &str,
    ) -> Risultato<Option<Flusso>> {
        let sql = format!("{SELEZIONE} WHERE f.ente = $1 AND f.dominio = $2 AND f.sha256 = $3");
        let v = su_pool!(self, p => sqlx::query_as::<_, Flusso>(sqlx::AssertSqlSafe(sql.clone())).bind(ente).bind(dominio).bind(sha256).fetch_optional(p).await)?;
        Ok(v)
    }

    /// Flows matching the filter, newest first.
    pub async fn elenco_flussi(&self, f: &FiltroFlussi) -> Risultato<Vec<Flusso>> {
        let sql = format!(
            "{SELEZIONE} WHERE ($1 IS NULL OR f.ente = $1) AND ($2 IS NULL OR f.dominio = $2) \
             AND ($3 IS NULL OR f.stato = $3) AND ($4 IS NULL OR f.id < $4) ORDER BY f.id DESC LIMIT $5"
        );
        let v = su_pool!(self, p => sqlx::query_as::<_, Flusso>(sqlx::AssertSqlSafe(sql.clone()))
            .bind(&f.ente).bind(f.dominio).bind(f.stato).bind(f.prima_di).bind(f.limite)
            .fetch_all(p).await)?;
        Ok(v)
    }

    /// The last accepted flow of an entity and domain (the one the register reflects).
    pub async fn ultimo_accettato(
        &self,
        ente: &str,
        dominio: DominioFlusso,
    ) -> Risultato<Option<i64>> {
        let v: Option<i64> = su_pool!(self, p => sqlx::query_scalar(
            "SELECT MAX(id) FROM flussi WHERE ente = $1 AND dominio = $2 AND stato = 'accettato'")
            .bind(ente).bind(dominio).fetch_one(p).await)?;
        Ok(v)
    }

    /// Per domain, the entities with at least one flow from `inviato` on, sorted.
    pub async fn enti_con_flussi(&self) -> Risultato<Vec<(String, String)>> {
        let v: Vec<(String, String)> = su_pool!(self, p => sqlx::query_as(
            "SELECT DISTINCT dominio, ente FROM flussi WHERE stato IN ('inviato', 'accettato', 'respinto', 'superato') ORDER BY dominio, ente")
            .fetch_all(p).await)?;
        Ok(v)
    }

    /// Per entity and domain, the date of the last accepted flow (for the entity registry).
    pub async fn ultimi_accettati(&self) -> Risultato<Vec<(String, String, DateTime<Utc>)>> {
        let v: Vec<(String, String, DateTime<Utc>)> = su_pool!(self, p => sqlx::query_as(
            "SELECT ente, dominio, MAX(esito_il) FROM flussi WHERE stato IN ('accettato', 'superato') AND esito_il IS NOT NULL GROUP BY ente, dominio")
            .fetch_all(p).await)?;
        Ok(v)
    }

    /// Every acceptance, newest first (at most `limite`): domain, entity, instant (the open
    /// data's releases).
    pub async fn accettazioni(
        &self,
        limite: i64,
    ) -> Risultato<Vec<(String, String, DateTime<Utc>)>> {
        let v: Vec<(String, String, DateTime<Utc>)> = su_pool!(self, p => sqlx::query_as(
            "SELECT dominio, ente, esito_il FROM flussi WHERE stato IN ('accettato', 'superato') AND esito_il IS NOT NULL ORDER BY esito_il DESC LIMIT $1")
            .bind(limite).fetch_all(p).await)?;
        Ok(v)
    }

    /// A page of a report's issues and the total matching the filter.
    pub async fn segnalazioni(
        &self,
        flusso: i64,
        f: &FiltroSegnalazioni,
        offset: i64,
        limite: i64,
    ) -> Risultato<(Vec<SegnalazioneRiga>, i64)> {
        const DOVE: &str = "WHERE flusso = $1 AND ($2 IS NULL OR tabella = $2) AND ($3 IS NULL OR codice = $3) AND ($4 IS NULL OR gravita = $4)";
        let sql = format!(
            "SELECT n, tabella, riga, campo, valore, codice, gravita, messaggio, altro_ente FROM segnalazioni {DOVE} ORDER BY n LIMIT $5 OFFSET $6"
        );
        let v = su_pool!(self, p => sqlx::query_as::<_, SegnalazioneRiga>(sqlx::AssertSqlSafe(sql.clone()))
            .bind(flusso).bind(&f.tabella).bind(&f.codice).bind(&f.gravita).bind(limite).bind(offset)
            .fetch_all(p).await)?;
        let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM segnalazioni {DOVE}");
        let n: i64 = su_pool!(self, p => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
            .bind(flusso).bind(&f.tabella).bind(&f.codice).bind(&f.gravita).fetch_one(p).await)?;
        Ok((v, n))
    }

    /// The issues of a flow that name another entity: (position in the report, 1-based;
    /// entity).
    pub async fn altri_enti_segnalazioni(&self, flusso: i64) -> Risultato<Vec<(i32, String)>> {
        let v = su_pool!(self, p => sqlx::query_as::<_, (i32, String)>(
            "SELECT n, altro_ente FROM segnalazioni WHERE flusso = $1 AND altro_ente IS NOT NULL ORDER BY n")
            .bind(flusso).fetch_all(p).await)?;
        Ok(v)
    }

    /// A page of the rows in error of a flow (optionally of one table) and their total.
    pub async fn righe_errate(
        &self,
        flusso: i64,
        tabella: Option<&str>,
        offset: i64,
        limite: i64,
    ) -> Risultato<(Vec<RigaErrata>, i64)> {
        let v = su_pool!(self, p => sqlx::query_as::<_, RigaErrata>(
            "SELECT tabella, riga, valori FROM righe_errate WHERE flusso = $1 AND ($2 IS NULL OR tabella = $2) ORDER BY tabella, riga LIMIT $3 OFFSET $4")
            .bind(flusso).bind(tabella).bind(limite).bind(offset).fetch_all(p).await)?;
        let n: i64 = su_pool!(self, p => sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM righe_errate WHERE flusso = $1 AND ($2 IS NULL OR tabella = $2)")
            .bind(flusso).bind(tabella).fetch_one(p).await)?;
        Ok((v, n))
    }

    /// The fields in error of some rows of a flow: (table, row, field).
    pub async fn campi_in_errore(
        &self,
        flusso: i64,
        righe: &[(String, i64)],
    ) -> Risultato<Vec<(String, i64, String)>> {
        if righe.is_empty() {
            return Ok(vec![]);
        }
        let mut p = Segnaposti::new(self.is_postgres());
        let mut sql = String::from("SELECT tabella, riga, campo FROM segnalazioni WHERE flusso = ");
        p.prossimo(&mut sql);
        sql.push_str(" AND gravita = 'errore' AND campo IS NOT NULL AND (");
        for i in 0..righe.len() {
            if i > 0 {
                sql.push_str(" OR ");
            }
            sql.push_str("(tabella = ");
            p.prossimo(&mut sql);
            sql.push_str(" AND riga = ");
            p.prossimo(&mut sql);
            sql.push(')');
        }
        sql.push(')');
        let v: Vec<(String, i64, String)> = su_pool!(self, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(flusso);
            for (t, r) in righe {
                q = q.bind(t).bind(*r);
            }
            q.fetch_all(p).await
        })?;
        Ok(v)
    }

    /// A page of a flow's differences of one table and kind, by key.
    pub async fn differenze(
        &self,
        flusso: i64,
        tabella: &str,
        tipo: &str,
        offset: i64,
        limite: i64,
    ) -> Risultato<Vec<Differenza>> {
        let v = su_pool!(self, p => sqlx::query_as::<_, Differenza>(
            "SELECT tabella, tipo, chiave, campi FROM differenze WHERE flusso = $1 AND tabella = $2 AND tipo = $3 ORDER BY chiave LIMIT $4 OFFSET $5")
            .bind(flusso).bind(tabella).bind(tipo).bind(limite).bind(offset).fetch_all(p).await)?;
        Ok(v)
    }

    /// Records rows read so far by the validation (for the live progress).
    pub async fn avanzamento_flusso(&self, id: i64, righe_lette: i64) -> Risultato<()> {
        su_pool!(self, p => sqlx::query("UPDATE flussi SET righe_lette = $2 WHERE id = $1 AND stato = 'in_validazione'")
            .bind(id).bind(righe_lette).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Extends the lease of a job the worker still holds; `false` if it lost it.
    pub async fn rinnova_lavoro(
        &self,
        id: i64,
        esecutore: &str,
        scade_il: DateTime<Utc>,
    ) -> Risultato<bool> {
        let n = su_pool!(self, p => sqlx::query(
            "UPDATE lavori SET scade_il = $3 WHERE id = $1 AND esecutore = $2 AND stato = 'in_corso'")
            .bind(id).bind(esecutore).bind(scade_il).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// The jobs of a flow (oldest first).
    pub async fn lavori_di(&self, flusso: i64) -> Risultato<Vec<LavoroRiga>> {
        let v = su_pool!(self, p => sqlx::query_as::<_, LavoroRiga>(
            "SELECT id, tipo, flusso, stato, tentativi, esecutore, errore FROM lavori WHERE flusso = $1 ORDER BY id")
            .bind(flusso).fetch_all(p).await)?;
        Ok(v)
    }

    /// Jobs waiting or running (for the health of the queue).
    pub async fn lavori_pendenti(&self) -> Risultato<i64> {
        let n: i64 = su_pool!(self, p => sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM lavori WHERE stato IN ('in_coda', 'in_corso')")
            .fetch_one(p).await)?;
        Ok(n)
    }
}

impl Tx {
    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self.inner, TxInner::Pg(_))
    }

    pub async fn crea_flusso(&mut self, n: &NuovoFlusso<'_>, ora: DateTime<Utc>) -> Risultato<i64> {
        let id: i64 = su_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO flussi (ente, dominio, stato, nome_file, sha256, dimensione, caricato_il, caricato_da) \
             VALUES ($1, $2, 'caricato', $3, $4, $5, $6, $7) RETURNING id")
            .bind(n.ente).bind(n.dominio).bind(n.nome_file).bind(n.sha256).bind(n.dimensione).bind(ora).bind(n.caricato_da)
            .fetch_one(c).await)?;
        Ok(id)
    }

    /// Reads a flow inside the transaction, locking its row on PostgreSQL so that concurrent
    /// state changes (submission, acceptance) queue behind each other.
    pub async fn flusso_per_aggiornare(&mut self, id: i64) -> Risultato<Option<Flusso>> {
        let blocca = match self.inner {
            TxInner::Pg(_) => " FOR UPDATE OF f",
            TxInner::Sqlite(_) => "",
        };
        let sql = format!("{SELEZIONE} WHERE f.id = $1{blocca}");
        let v = su_tx!(self, c => sqlx::query_as::<_, Flusso>(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_optional(c).await)?;
        Ok(v)
    }

    /// Moves a flow from one state to another; `NonTrovato` if it was not in `da`.
    pub async fn cambia_stato_flusso(
        &mut self,
        id: i64,
        da: StatoFlusso,
        a: StatoFlusso,
    ) -> Risultato<()> {
        let n = su_tx!(self, c => sqlx::query("UPDATE flussi SET stato = $3 WHERE id = $1 AND stato = $2")
            .bind(id).bind(da).bind(a).execute(c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(ErroreArchivio::NonTrovato);
        }
        Ok(())
    }

    /// Stores the outcome of a validation and clears the previous one's rows (a job that is run
    /// again after a lost lease starts from scratch).
    #[allow(clippy::too_many_arguments)]
    pub async fn esito_validazione(
        &mut self,
        id: i64,
        valido: bool,
        errori: i64,
        avvisi: i64,
        righe: i64,
        firmatario: Option<&str>,
        ora: DateTime<Utc>,
    ) -> Risultato<()> {
        let stato = if valido {
            StatoFlusso::Valido
        } else {
            StatoFlusso::NonValido
        };
        let n = su_tx!(self, c => sqlx::query(
            "UPDATE flussi SET stato = $2, valido = $3, errori = $4, avvisi = $5, righe = $6, righe_lette = $6, \
             firmatario = $7, validato_il = $8 WHERE id = $1 AND stato = 'in_validazione'")
            .bind(id).bind(stato).bind(valido).bind(errori).bind(avvisi).bind(righe).bind(firmatario).bind(ora)
            .execute(c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(ErroreArchivio::NonTrovato);
        }
        Ok(())
    }

    /// Removes what a previous (interrupted) run of a flow's validation left (its difference is
    /// replaced whole by [`Tx::salva_differenze`]).
    pub async fn pulisci_validazione(&mut self, id: i64) -> Risultato<()> {
        for sql in [
            "DELETE FROM segnalazioni WHERE flusso = $1",
            "DELETE FROM righe_errate WHERE flusso = $1",
        ] {
            su_tx!(self, c => sqlx::query(sql).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    pub async fn inserisci_segnalazioni(
        &mut self,
        flusso: i64,
        v: &[SegnalazioneRiga],
    ) -> Risultato<()> {
        for blocco in v.chunks(500) {
            let mut sql = String::from(
                "INSERT INTO segnalazioni (flusso, n, tabella, riga, campo, valore, codice, gravita, messaggio, altro_ente) VALUES ",
            );
            Segnaposti::new(self.is_postgres()).righe(&mut sql, blocco.len(), 10);
            su_tx!(self, c => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
                for s in blocco {
                    q = q.bind(flusso).bind(s.n).bind(&s.tabella).bind(s.riga).bind(&s.campo).bind(&s.valore)
                        .bind(&s.codice).bind(&s.gravita).bind(&s.messaggio).bind(&s.altro_ente);
                }
                q.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    pub async fn inserisci_righe_errate(&mut self, flusso: i64, v: &[RigaErrata]) -> Risultato<()> {
        for blocco in v.chunks(1000) {
            let mut sql =
                String::from("INSERT INTO righe_errate (flusso, tabella, riga, valori) VALUES ");
            Segnaposti::new(self.is_postgres()).righe(&mut sql, blocco.len(), 4);
            su_tx!(self, c => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
                for r in blocco {
                    q = q.bind(flusso).bind(&r.tabella).bind(r.riga).bind(&r.valori);
                }
                q.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    /// Replaces a flow's differences and their summary (JSON), computed against `base`.
    pub async fn salva_differenze(
        &mut self,
        flusso: i64,
        base: i64,
        riepilogo: &str,
        v: &[Differenza],
    ) -> Risultato<()> {
        su_tx!(self, c => sqlx::query("DELETE FROM differenze WHERE flusso = $1").bind(flusso).execute(c).await.map(|r| r.rows_affected()))?;
        for blocco in v.chunks(2000) {
            let mut sql = String::from(
                "INSERT INTO differenze (flusso, tabella, tipo, chiave, campi) VALUES ",
            );
            Segnaposti::new(self.is_postgres()).righe(&mut sql, blocco.len(), 5);
            su_tx!(self, c => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
                for d in blocco {
                    q = q.bind(flusso).bind(&d.tabella).bind(&d.tipo).bind(&d.chiave).bind(&d.campi);
                }
                q.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        su_tx!(self, c => sqlx::query("UPDATE flussi SET differenze_base = $2, differenze = $3 WHERE id = $1")
            .bind(flusso).bind(base).bind(riepilogo).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The next protocol number of a year. The counter row is locked until commit, so
    /// concurrent submissions queue and a rolled-back one leaves no gap.
    pub async fn prossimo_protocollo(&mut self, anno: i32) -> Risultato<i64> {
        let n: i64 = su_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO protocolli (anno, ultimo) VALUES ($1, 1) \
             ON CONFLICT (anno) DO UPDATE SET ultimo = protocolli.ultimo + 1 RETURNING ultimo")
            .bind(anno).fetch_one(c).await)?;
        Ok(n)
    }

    /// Submits a `valido` flow.
    pub async fn invia_flusso(
        &mut self,
        id: i64,
        protocollo: &str,
        da: &str,
        avvisi_confermati: i64,
        motivazione_rimozioni: Option<&str>,
        ora: DateTime<Utc>,
    ) -> Risultato<()> {
        let n = su_tx!(self, c => sqlx::query(
            "UPDATE flussi SET stato = 'inviato', protocollo = $2, inviato_il = $3, inviato_da = $4, avvisi_confermati = $5, \
             motivazione_rimozioni = $6 WHERE id = $1 AND stato = 'valido'")
            .bind(id).bind(protocollo).bind(ora).bind(da).bind(avvisi_confermati).bind(motivazione_rimozioni)
            .execute(c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(ErroreArchivio::NonTrovato);
        }
        Ok(())
    }

    /// Withdraws a flow not yet submitted (`caricato`, `in_validazione`, `valido`,
    /// `non_valido`); `NonTrovato` if it is in another state by now.
    pub async fn ritira_flusso(&mut self, id: i64, da: &str, ora: DateTime<Utc>) -> Risultato<()> {
        let n = su_tx!(self, c => sqlx::query(
            "UPDATE flussi SET stato = 'ritirato', ritirato_il = $2, ritirato_da = $3 \
             WHERE id = $1 AND stato IN ('caricato', 'in_validazione', 'valido', 'non_valido')")
            .bind(id).bind(ora).bind(da).execute(c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(ErroreArchivio::NonTrovato);
        }
        Ok(())
    }

    /// Records the Region's decision on an `inviato` flow.
    pub async fn esito_flusso(
        &mut self,
        id: i64,
        stato: StatoFlusso,
        da: &str,
        motivazione: Option<&str>,
        ora: DateTime<Utc>,
    ) -> Risultato<()> {
        let n = su_tx!(self, c => sqlx::query(
            "UPDATE flussi SET stato = $2, esito_il = $3, esito_da = $4, motivazione = $5 WHERE id = $1 AND stato = 'inviato'")
            .bind(id).bind(stato).bind(ora).bind(da).bind(motivazione).execute(c).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(ErroreArchivio::NonTrovato);
        }
        Ok(())
    }

    /// Marks as `superato` the entity's earlier accepted (and still pending) flows of the domain;
    /// returns their ids.
    pub async fn supera_flussi(
        &mut self,
        ente: &str,
        dominio: DominioFlusso,
        nuovo: i64,
    ) -> Risultato<Vec<i64>> {
        let v: Vec<i64> = su_tx!(self, c => sqlx::query_scalar(
            "UPDATE flussi SET stato = 'superato', superato_da = $3 \
             WHERE ente = $1 AND dominio = $2 AND id <> $3 AND (stato = 'accettato' OR (stato IN ('valido', 'inviato') AND id < $3)) RETURNING id")
            .bind(ente).bind(dominio).bind(nuovo).fetch_all(c).await)?;
        Ok(v)
    }

    pub async fn accoda_lavoro(
        &mut self,
        tipo: &str,
        flusso: i64,
        ora: DateTime<Utc>,
    ) -> Risultato<i64> {
        let id: i64 = su_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO lavori (tipo, flusso, stato, creato_il) VALUES ($1, $2, 'in_coda', $3) RETURNING id")
            .bind(tipo).bind(flusso).bind(ora).fetch_one(c).await)?;
        Ok(id)
    }

    /// Ends a job the worker still holds; `false` if its lease was lost meanwhile (the work done
    /// must then be rolled back with the transaction).
    pub async fn chiudi_lavoro(
        &mut self,
        id: i64,
        esecutore: &str,
        errore: Option<&str>,
        ora: DateTime<Utc>,
    ) -> Risultato<bool> {
        let stato = if errore.is_some() { "fallito" } else { "fatto" };
        let n = su_tx!(self, c => sqlx::query(
            "UPDATE lavori SET stato = $3, finito_il = $4, errore = $5 WHERE id = $1 AND esecutore = $2 AND stato = 'in_corso'")
            .bind(id).bind(esecutore).bind(stato).bind(ora).bind(errore).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }
}

/// The PostgreSQL advisory lock that serializes job takers (any fixed number unique to PUSH:
/// "PUSHLAV" in ASCII).
const BLOCCO_PRESA_LAVORI: i64 = 0x50_55_53_48_4c_41_56;

impl Archivio {
    /// Takes a job that is waiting or whose lease expired, for `esecutore` until `scade_il`:
    /// the oldest of an entity that has **no job running** (a lease still valid). One entity
    /// thus holds at most one worker across all servers, and a worker stays free for the
    /// others: preferring other entities' jobs was not enough, since an entity that queued
    /// several large flows while nobody else waited took every worker, and a small flow
    /// arriving next waited for one to end (12 s in the red team's run). An entity's own flows
    /// run one after the other, which costs it nothing (each later one supersedes the earlier
    /// anyway). On PostgreSQL the row is chosen with `FOR UPDATE SKIP
    /// LOCKED`, so two servers never take the same job; on SQLite the write lock serializes
    /// takers.
    pub async fn prendi_lavoro(
        &self,
        esecutore: &str,
        ora: DateTime<Utc>,
        scade_il: DateTime<Utc>,
    ) -> Risultato<Option<Lavoro>> {
        const SCELTA: &str = "SELECT l.id FROM lavori l JOIN flussi f ON f.id = l.flusso \
             WHERE (l.stato = 'in_coda' OR (l.stato = 'in_corso' AND l.scade_il < $2)) \
             AND NOT EXISTS (SELECT 1 FROM lavori a JOIN flussi g ON g.id = a.flusso \
             WHERE a.stato = 'in_corso' AND a.scade_il >= $2 AND g.ente = f.ente) \
             ORDER BY l.id LIMIT 1";
        let aggiorna = |scelta: &str| {
            format!(
                "UPDATE lavori SET stato = 'in_corso', esecutore = $1, scade_il = $3, iniziato_il = $2, tentativi = tentativi + 1 \
                 WHERE id = ({scelta}) RETURNING id, tipo, flusso, tentativi"
            )
        };
        let v = match &self.pool {
            Pool::Pg(p) => {
                // Takers queue on one advisory lock held to commit: the fair choice reads which
                // entities have a job running, and without the lock two takers choosing at once
                // both see the other's job still waiting and take one entity's two jobs (a small
                // flow of another entity then waited behind both). Taking a job is rare and
                // quick, so the queue costs nothing; SKIP LOCKED stays for the lease renewals.
                let mut t = p.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(BLOCCO_PRESA_LAVORI)
                    .execute(&mut *t)
                    .await?;
                let sql = aggiorna(&format!("{SCELTA} FOR UPDATE OF l SKIP LOCKED"));
                let v = sqlx::query_as::<_, Lavoro>(sqlx::AssertSqlSafe(sql))
                    .bind(esecutore)
                    .bind(ora)
                    .bind(scade_il)
                    .fetch_optional(&mut *t)
                    .await?;
                t.commit().await?;
                v
            }
            Pool::Sqlite(p) => {
                let mut t = p.begin_with("BEGIN IMMEDIATE").await?;
                let sql = aggiorna(SCELTA);
                let v = sqlx::query_as::<_, Lavoro>(sqlx::AssertSqlSafe(sql))
                    .bind(esecutore)
                    .bind(ora)
                    .bind(scade_il)
                    .fetch_optional(&mut *t)
                    .await?;
                t.commit().await?;
                v
            }
        };
        Ok(v)
    }

    /// Releases a job taken by `esecutore` back to the queue (used at shutdown).
    pub async fn rilascia_lavoro(&self, id: i64, esecutore: &str) -> Risultato<()> {
        su_pool!(self, p => sqlx::query(
            "UPDATE lavori SET stato = 'in_coda', esecutore = NULL, scade_il = NULL WHERE id = $1 AND esecutore = $2 AND stato = 'in_corso'")
            .bind(id).bind(esecutore).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Moves a flow to `in_validazione` for a (re)started validation job, resetting progress.
    pub async fn inizia_validazione(&self, id: i64) -> Risultato<()> {
        su_pool!(self, p => sqlx::query(
            "UPDATE flussi SET stato = 'in_validazione', righe_lette = 0 WHERE id = $1 AND stato IN ('caricato', 'in_validazione')")
            .bind(id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn stima_righe_flusso(&self, id: i64, righe: Option<i64>) -> Risultato<()> {
        su_pool!(self, p => sqlx::query("UPDATE flussi SET righe_stimate = $2 WHERE id = $1")
            .bind(id).bind(righe).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// Placeholders for statements built at run time with many parameters. PostgreSQL gets
/// `$1, $2, …`; SQLite gets anonymous `?`, because sqlx binds SQLite's `$N` as *named*
/// parameters, looked up one by one: a 30 000-parameter `INSERT` ran at ~900 rows/s instead
/// of ~150 000 (bench/registro.sh). Parameters must then be bound in the order they appear.
pub(crate) struct Segnaposti {
    numerati: bool,
    k: usize,
}

impl Segnaposti {
    pub(crate) fn new(postgres: bool) -> Self {
        Self {
            numerati: postgres,
            k: 1,
        }
    }

    pub(crate) fn prossimo(&mut self, sql: &mut String) {
        use std::fmt::Write;
        if self.numerati {
            let _ = write!(sql, "${}", self.k);
            self.k += 1;
        } else {
            sql.push('?');
        }
    }

    /// `n` placeholders separated by commas.
    pub(crate) fn elenco(&mut self, sql: &mut String, n: usize) {
        for i in 0..n {
            if i > 0 {
                sql.push_str(", ");
            }
            self.prossimo(sql);
        }
    }

    /// `(…), (…)`: `righe` rows of `colonne` values.
    pub(crate) fn righe(&mut self, sql: &mut String, righe: usize, colonne: usize) {
        for r in 0..righe {
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            self.elenco(sql, colonne);
            sql.push(')');
        }
    }
}

//! Machine tokens: created by an entity's legal representative or the Region (web), or by
//! `push token create` on the server. Shown once, stored as a hash, revocable.

use archivio::{NuovaVoce, TokenRiga};
use dominio::politica::{Azione, Soggetto, autorizza};
use dominio::{Area, CodiceEnte, Testo};

use crate::{ErroreServizio, Esito, Piattaforma, audit, casuale, ora};

/// Who creates or revokes a token: a person in the web UI, or the server's command line
/// (trusted: whoever runs it already holds the database).
pub enum Richiedente<'a> {
    Soggetto(&'a Soggetto),
    RigaDiComando,
}

impl Richiedente<'_> {
    fn attore(&self) -> String {
        match self {
            Richiedente::Soggetto(s) => audit::attore(s),
            Richiedente::RigaDiComando => audit::RIGA_DI_COMANDO.into(),
        }
    }
    fn autorizza(&self, ente: &CodiceEnte) -> Esito<()> {
        match self {
            Richiedente::Soggetto(s) => Ok(autorizza(s, &Azione::GestireToken(ente))?),
            Richiedente::RigaDiComando => Ok(()),
        }
    }
}

/// A token just created: the secret is returned this once.
pub struct NuovoToken {
    pub id: i64,
    pub segreto: String,
}

impl Piattaforma {
    /// Creates a token for an entity (with areas) or for the Region (no areas).
    pub async fn crea_token(
        &self,
        chi: Richiedente<'_>,
        ente: &CodiceEnte,
        aree: &[Area],
        nome: &str,
    ) -> Esito<NuovoToken> {
        chi.autorizza(ente)?;
        if self.db.ente(ente.as_str()).await?.is_none() {
            return Err(ErroreServizio::Dominio(dominio::ErroreDominio::valore(
                "ente",
                format!("L'ente {ente} non esiste nel registro."),
            )));
        }
        if !ente.is_regione() && aree.is_empty() {
            return Err(ErroreServizio::Dominio(dominio::ErroreDominio::valore(
                "aree",
                "Un token di un ente deve avere almeno un'area.",
            )));
        }
        let nome = if nome.trim().is_empty() {
            "token".to_string()
        } else {
            nome.to_string()
        };
        let nome = Testo::parse(&nome, "nome", "Nome del token", 1, 80)?;
        let aree_txt = if ente.is_regione() {
            String::new()
        } else {
            Area::elenco(aree)
        };
        let segreto = format!("push_{}", casuale::token_url(32));
        let attore = chi.attore();
        let adesso = ora();
        let mut tx = self.db.inizia().await?;
        let id = tx
            .crea_token(
                &casuale::hash(&segreto),
                ente.as_str(),
                &aree_txt,
                nome.as_str(),
                &attore,
                adesso,
            )
            .await?;
        tx.audit(
            NuovaVoce {
                attore: &attore,
                ente: Some(ente.as_str()),
                azione: "token.creato",
                oggetto: format!("token:{id}"),
                dettagli: serde_json::json!({ "nome": nome.as_str(), "aree": aree_txt }),
            },
            adesso,
        )
        .await?;
        tx.commit().await?;
        Ok(NuovoToken { id, segreto })
    }

    /// Tokens of an entity (web) — or all tokens (`ente` = `None`, command line only).
    pub async fn elenco_token(
        &self,
        chi: Richiedente<'_>,
        ente: Option<&CodiceEnte>,
    ) -> Esito<Vec<TokenRiga>> {
        match ente {
            Some(e) => chi.autorizza(e)?,
            None if matches!(chi, Richiedente::RigaDiComando) => {}
            None => return Err(ErroreServizio::Negato(dominio::Negato::Vietato)),
        }
        Ok(self.db.elenco_token(ente.map(CodiceEnte::as_str)).await?)
    }

    /// Revokes a token. Through the web, `ente` must be the token's entity (else 404).
    pub async fn revoca_token(
        &self,
        chi: Richiedente<'_>,
        ente: Option<&CodiceEnte>,
        id: i64,
    ) -> Esito<()> {
        let t = self.db.token(id).await?.ok_or(ErroreServizio::NonTrovato)?;
        let ente_token = CodiceEnte::parse(&t.ente).map_err(|_| ErroreServizio::NonTrovato)?;
        if let Some(e) = ente
            && *e != ente_token
        {
            return Err(ErroreServizio::NonTrovato);
        }
        chi.autorizza(&ente_token)?;
        let attore = chi.attore();
        let adesso = ora();
        let mut tx = self.db.inizia().await?;
        tx.revoca_token(id, &attore, adesso)
            .await
            .map_err(|e| match e {
                archivio::ErroreArchivio::NonTrovato => {
                    ErroreServizio::Conflitto("Il token è già stato revocato.".into())
                }
                e => e.into(),
            })?;
        tx.audit(
            NuovaVoce {
                attore: &attore,
                ente: Some(ente_token.as_str()),
                azione: "token.revocato",
                oggetto: format!("token:{id}"),
                dettagli: serde_json::json!({ "nome": t.nome }),
            },
            adesso,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

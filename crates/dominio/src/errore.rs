//! The domain's error type: an input that does not parse or a rule that is broken.
//! Every message is an Italian sentence meant for the person who typed the value.

/// A value or a request refused by a domain rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErroreDominio {
    /// A field's value is not acceptable; `campo` names the form field.
    #[error("{messaggio}")]
    Valore {
        campo: &'static str,
        messaggio: String,
    },
    /// The request conflicts with the current state (e.g. a duplicate registration).
    #[error("{0}")]
    Conflitto(String),
}

impl ErroreDominio {
    pub fn valore(campo: &'static str, messaggio: impl Into<String>) -> Self {
        Self::Valore {
            campo,
            messaggio: messaggio.into(),
        }
    }
}

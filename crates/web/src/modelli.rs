//! Templates: embedded in the binary, rendered with minijinja (HTML auto-escaping on).
//! [`Pagina`] builds the shell's context (who is logged in, navigation by role, the
//! development-login banner, the CSRF token) so every page gets it the same way.

use axum::response::Html;
use minijinja::{Environment, Value, context};
use servizi::Modalita;

use crate::Stato;
use crate::contesto::Contesto;
use crate::errore::ErrorePagina;

#[derive(rust_embed::RustEmbed)]
#[folder = "templates/"]
struct Modelli;

/// Italian labels of stored codes.
pub fn etichetta(codice: &str) -> &str {
    match codice {
        "AMMINISTRATORE" => "Amministratore regionale",
        "ISTRUTTORE" => "Istruttore regionale",
        "LEGALE_RAPPRESENTANTE" => "Legale rappresentante",
        "REFERENTE" => "Referente",
        "PATRIMONIO" => "Patrimonio",
        "PROGRAMMI" => "Programmi",
        "IN_ATTESA" => "In attesa di decisione",
        "APPROVATA" => "Approvata",
        "RESPINTA" => "Respinta",
        "COMUNE" => "Comune",
        "ARCA" => "ARCA",
        "REGIONE" => "Regione",
        altro => altro,
    }
}

/// The template environment, with every embedded template loaded.
pub fn ambiente() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    for nome in Modelli::iter() {
        if let Some(f) = Modelli::get(&nome) {
            let testo = String::from_utf8_lossy(&f.data).into_owned();
            if let Err(e) = env.add_template_owned(nome.to_string(), testo) {
                // A broken template is a build defect; the page using it will answer 500.
                tracing::error!(modello = %nome, errore = %e, "modello non valido");
            }
        }
    }
    env.add_filter("etichetta", |s: String| etichetta(&s).to_string());
    crate::formati::registra(&mut env);
    env.add_filter("stato_messaggio", |s: String| {
        servizi::posta::etichetta_stato(&s).to_string()
    });
    env.add_filter("stato_flusso", |s: String| {
        dominio::StatoFlusso::parse(&s)
            .map(|x| x.etichetta().to_string())
            .unwrap_or(s)
    });
    env
}

/// The shell's context for a page.
fn shell(st: &Stato, cx: Option<&Contesto>) -> Value {
    let sviluppo = st.p.accesso_sviluppo_attivo();
    let Some(cx) = cx else {
        return context! { sviluppo, produzione => st.p.config.modalita == Modalita::Produzione };
    };
    let s = cx.soggetto();
    let enti = s.enti().iter().map(|e| e.to_string()).collect::<Vec<_>>();
    let rappresentante = enti
        .iter()
        .filter(|e| {
            s.is_legale_rappresentante(
                &dominio::CodiceEnte::parse(e).unwrap_or_else(|_| dominio::CodiceEnte::regione()),
            )
        })
        .cloned()
        .collect::<Vec<_>>();
    context! {
        sviluppo,
        csrf => cx.csrf,
        percorso => cx.percorso,
        esito => cx.esito,
        utente => cx.identita.utente,
        regione => s.is_regione(),
        admin => s.is_regione_admin(),
        miei_enti => enti,
        rappresentante => rappresentante,
    }
}

/// Renders a page with the shell's context merged in.
pub fn pagina(
    st: &Stato,
    cx: &Contesto,
    nome: &str,
    dati: Value,
) -> Result<Html<String>, ErrorePagina> {
    let t = st
        .modelli
        .get_template(nome)
        .map_err(|e| servizi::ErroreServizio::Interno(format!("modello {nome}: {e}")))?;
    let html = t
        .render(context! { ..dati, ..shell(st, Some(cx)) })
        .map_err(|e| servizi::ErroreServizio::Interno(format!("modello {nome}: {e}")))?;
    Ok(Html(html))
}

/// The error page (rendered without the request's identity: it may be the failure's cause).
pub fn pagina_errore(
    st: &Stato,
    status: u16,
    titolo: &str,
    messaggio: &str,
    request_id: &str,
) -> String {
    let ctx = context! { status, titolo, messaggio, request_id, ..shell(st, None) };
    st.modelli
        .get_template("errore.html")
        .and_then(|t| t.render(ctx))
        .unwrap_or_else(|e| {
            tracing::error!(errore = %e, "pagina di errore non disponibile");
            format!(
                "<!doctype html><html lang=\"it\"><title>{titolo}</title><h1>{titolo}</h1><p>Codice richiesta: {request_id}</p></html>"
            )
        })
}

//! News (*comunicazioni*, spec README §7): the Region writes a title, a Markdown body, a date,
//! attachments and an audience (the public, every entity, or a selection), and may schedule a
//! banner. Shown on the home page and in the reserved area.
//!
//! The body is kept as written and rendered when shown: Markdown with `pulldown-cmark`, then
//! the HTML (the Markdown's own and any raw HTML written in it) cleaned with `ammonia`, which
//! keeps a list of harmless tags and attributes and drops everything else (scripts, event
//! handlers, `javascript:` links, styles, frames, forms). Links get `rel="noopener noreferrer
//! nofollow"`. No script written in news reaches a browser.

use archivio::{Allegato, Comunicazione, Lettore, NuovaComunicazione};
use chrono::NaiveDate;
use dominio::politica::{Azione, Soggetto, autorizza};
use dominio::{CodiceEnte, ErroreDominio, Testo};

use crate::deposito::Ricevuto;
use crate::{ErroreServizio, Esito, Piattaforma, audit};

/// Most attachments of one piece of news, and the largest one.
pub const MAX_ALLEGATI: usize = 5;
pub const LIMITE_ALLEGATO: u64 = 10 * 1024 * 1024;
/// Longest body, in characters.
const MAX_CORPO: usize = 20_000;

/// What the Region writes.
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
pub struct DomandaComunicazione {
    #[serde(default)]
    pub titolo: String,
    #[serde(default)]
    pub corpo: String,
    /// `YYYY-MM-DD`; empty: today.
    #[serde(default)]
    pub data: String,
    /// `pubblico`, `enti` or `selezione`.
    #[serde(default)]
    pub pubblico: String,
    /// For `selezione`: entity codes separated by commas, spaces or new lines.
    #[serde(default)]
    pub enti: String,
    #[serde(default)]
    pub banner_dal: String,
    #[serde(default)]
    pub banner_al: String,
}

/// A piece of news ready to show: the stored one, its body as safe HTML, its attachments.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Notizia {
    #[serde(flatten)]
    pub c: Comunicazione,
    pub html: String,
    pub allegati: Vec<Allegato>,
    pub enti: Vec<String>,
}

/// Markdown to HTML that no browser runs a script from.
pub fn rendi_markdown(md: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    let mut grezzo = String::new();
    html::push_html(&mut grezzo, Parser::new_ext(md, opts));
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"))
        .rm_tags(["img"])
        .clean(&grezzo)
        .to_string()
}

fn data(s: &str, campo: &'static str, etichetta: &str) -> Result<Option<NaiveDate>, ErroreDominio> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .map(Some)
        .map_err(|_| {
            ErroreDominio::valore(
                campo,
                format!("{etichetta}: scriva una data come 31/12/2026."),
            )
        })
}

/// The body: several lines of text (a Markdown source), no other control character.
fn corpo(s: &str) -> Result<String, ErroreDominio> {
    let s = s.trim();
    let n = s.chars().count();
    if n == 0 {
        return Err(ErroreDominio::valore(
            "corpo",
            "Scriva il testo della comunicazione.",
        ));
    }
    if n > MAX_CORPO {
        return Err(ErroreDominio::valore(
            "corpo",
            format!("Il testo può avere al massimo {MAX_CORPO} caratteri."),
        ));
    }
    if s.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ErroreDominio::valore(
            "corpo",
            "Il testo contiene caratteri di controllo non ammessi.",
        ));
    }
    Ok(s.replace("\r\n", "\n"))
}

/// A file name safe to show and to send back in `Content-Disposition`.
fn nome_allegato(nome: &str) -> String {
    let base = nome.rsplit(['/', '\\']).next().unwrap_or_default();
    let pulito: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | ';'))
        .take(120)
        .collect();
    let pulito = pulito.trim().to_string();
    if pulito.is_empty() {
        "allegato".into()
    } else {
        pulito
    }
}

impl Piattaforma {
    fn lettore(s: &Soggetto) -> Lettore {
        Lettore {
            regione: s.is_regione(),
            enti: s.enti().iter().map(|e| e.to_string()).collect(),
        }
    }

    async fn notizia(&self, c: Comunicazione) -> Esito<Notizia> {
        let allegati = self.db.allegati_comunicazione(c.id).await?;
        let enti = if c.pubblico == "selezione" {
            self.db.enti_comunicazione(c.id).await?
        } else {
            vec![]
        };
        Ok(Notizia {
            html: rendi_markdown(&c.corpo),
            c,
            allegati,
            enti,
        })
    }

    /// The news the subject may read (the public: public news only), newest first.
    pub async fn comunicazioni(&self, s: &Soggetto, limite: i64) -> Esito<Vec<Notizia>> {
        let v = self
            .db
            .comunicazioni_visibili(&Self::lettore(s), self.orologio.oggi(), limite)
            .await?;
        let mut out = Vec::with_capacity(v.len());
        for c in v {
            out.push(self.notizia(c).await?);
        }
        Ok(out)
    }

    /// Today's banners for the subject.
    pub async fn banner(&self, s: &Soggetto) -> Esito<Vec<Notizia>> {
        let v = self
            .db
            .banner_visibili(&Self::lettore(s), self.orologio.oggi())
            .await?;
        let mut out = Vec::with_capacity(v.len());
        for c in v {
            out.push(self.notizia(c).await?);
        }
        Ok(out)
    }

    /// One piece of news, 404 when the subject may not read it.
    pub async fn comunicazione(&self, s: &Soggetto, id: i64) -> Esito<Notizia> {
        let c = self
            .db
            .comunicazione_visibile(&Self::lettore(s), id, self.orologio.oggi())
            .await?
            .ok_or(ErroreServizio::NonTrovato)?;
        self.notizia(c).await
    }

    /// An attachment of a piece of news the subject may read: it and its file.
    pub async fn allegato(
        &self,
        s: &Soggetto,
        id: i64,
        allegato: i64,
    ) -> Esito<(Allegato, std::path::PathBuf)> {
        let n = self.comunicazione(s, id).await?;
        let a = n
            .allegati
            .into_iter()
            .find(|a| a.id == allegato)
            .ok_or(ErroreServizio::NonTrovato)?;
        let p = self
            .deposito
            .originale(&a.sha256)
            .map_err(|e| ErroreServizio::Interno(format!("allegato {allegato}: {e}")))?;
        Ok((a, p))
    }

    /// Every piece of news, withdrawn ones too (the Region's page).
    pub async fn tutte_comunicazioni(&self, s: &Soggetto) -> Esito<Vec<Notizia>> {
        autorizza(s, &Azione::PubblicareComunicazioni)?;
        let v = self.db.tutte_comunicazioni(200).await?;
        let mut out = Vec::with_capacity(v.len());
        for c in v {
            out.push(self.notizia(c).await?);
        }
        Ok(out)
    }

    /// Publishes a piece of news with its attachments (already received, each within
    /// [`LIMITE_ALLEGATO`]); its id.
    pub async fn pubblica_comunicazione(
        &self,
        s: &Soggetto,
        d: &DomandaComunicazione,
        allegati: Vec<(Ricevuto, String)>,
    ) -> Esito<i64> {
        autorizza(s, &Azione::PubblicareComunicazioni)?;
        let titolo = Testo::parse(&d.titolo, "titolo", "Titolo", 3, 200)?;
        let corpo = corpo(&d.corpo)?;
        let oggi = self.orologio.oggi();
        let giorno = data(&d.data, "data", "Data")?.unwrap_or(oggi);
        let pubblico = match d.pubblico.trim() {
            "" | "pubblico" => "pubblico",
            "enti" => "enti",
            "selezione" => "selezione",
            _ => {
                return Err(ErroreDominio::valore(
                    "pubblico",
                    "Scelga a chi è rivolta: tutti, tutti gli enti o alcuni enti.",
                )
                .into());
            }
        };
        let banner_dal = data(&d.banner_dal, "banner_dal", "Banner dal")?;
        let banner_al = data(&d.banner_al, "banner_al", "Banner fino al")?;
        if banner_al.is_some() && banner_dal.is_none() {
            return Err(ErroreDominio::valore(
                "banner_dal",
                "Indichi da quando mostrare il banner.",
            )
            .into());
        }
        if let (Some(a), Some(b)) = (banner_dal, banner_al)
            && b < a
        {
            return Err(ErroreDominio::valore(
                "banner_al",
                "Il banner non può finire prima di cominciare.",
            )
            .into());
        }
        let mut enti = Vec::new();
        if pubblico == "selezione" {
            for c in d
                .enti
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|c| !c.is_empty())
            {
                let codice = CodiceEnte::parse(c).map_err(|_| {
                    ErroreDominio::valore("enti", format!("«{c}» non è il codice di un ente."))
                })?;
                if self.db.ente(codice.as_str()).await?.is_none() {
                    return Err(ErroreDominio::valore(
                        "enti",
                        format!("L'ente {codice} non è nel registro."),
                    )
                    .into());
                }
                enti.push(codice.to_string());
            }
            if enti.is_empty() || enti.len() > 300 {
                return Err(ErroreDominio::valore(
                    "enti",
                    "Scriva i codici degli enti a cui è rivolta (da 1 a 300).",
                )
                .into());
            }
        }
        if allegati.len() > MAX_ALLEGATI {
            return Err(ErroreDominio::valore(
                "allegati",
                format!("Si possono allegare al massimo {MAX_ALLEGATI} file."),
            )
            .into());
        }
        let attore = audit::attore(s);
        let adesso = self.orologio.ora();
        let mut righe = Vec::new();
        for (r, nome) in allegati {
            let nome = nome_allegato(&nome);
            let tipo = mime_tipo(&nome);
            let (sha, dim) = (r.sha256.clone(), r.dimensione as i64);
            let dep = self.deposito.clone();
            tokio::task::spawn_blocking(move || dep.conserva(r))
                .await
                .map_err(|e| ErroreServizio::Interno(e.to_string()))?
                .map_err(|e| ErroreServizio::Interno(format!("allegato: {e}")))?;
            righe.push((nome, tipo, dim, sha));
        }
        let mut tx = self.db.inizia().await?;
        let id = tx
            .crea_comunicazione(
                &NuovaComunicazione {
                    titolo: titolo.as_str(),
                    corpo: &corpo,
                    data: giorno,
                    pubblico,
                    banner_dal,
                    banner_al,
                    creata_da: &attore,
                },
                adesso,
            )
            .await?;
        for e in &enti {
            tx.destinatario_comunicazione(id, e).await?;
        }
        for (nome, tipo, dim, sha) in &righe {
            tx.allega(id, nome, tipo, *dim, sha).await?;
        }
        tx.audit(
            archivio::NuovaVoce {
                attore: &attore,
                ente: None,
                azione: "comunicazione.pubblicata",
                oggetto: format!("comunicazione:{id}"),
                dettagli: serde_json::json!({
                    "titolo": titolo.as_str(), "pubblico": pubblico, "enti": enti,
                    "data": giorno.to_string(), "allegati": righe.len(),
                }),
            },
            adesso,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Withdraws a piece of news (it is kept, and no longer shown).
    pub async fn ritira_comunicazione(&self, s: &Soggetto, id: i64) -> Esito<()> {
        autorizza(s, &Azione::PubblicareComunicazioni)?;
        let adesso = self.orologio.ora();
        let mut tx = self.db.inizia().await?;
        if !tx.ritira_comunicazione(id, adesso).await? {
            return Err(ErroreServizio::NonTrovato);
        }
        tx.audit(
            archivio::NuovaVoce {
                attore: &audit::attore(s),
                ente: None,
                azione: "comunicazione.ritirata",
                oggetto: format!("comunicazione:{id}"),
                dettagli: serde_json::json!({}),
            },
            adesso,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The type an attachment is served with, by its extension; anything unknown is a download.
fn mime_tipo(nome: &str) -> String {
    let est = nome
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match est.as_str() {
        "pdf" => "application/pdf",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "csv" => "text/csv",
        "zip" => "application/zip",
        "p7m" => "application/pkcs7-mime",
        "odt" => "application/vnd.oasis.opendocument.text",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => "application/octet-stream",
    }
    .to_string()
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn il_markdown_ostile_non_porta_script() {
        let md = "# Titolo\n\n<script>alert(1)</script>\n\n[clic](javascript:alert(2)) \
                  <img src=x onerror=alert(3)> <a href=\"https://x.it\" onclick=\"alert(4)\">ok</a>\n\n\
                  <iframe src=\"https://evil\"></iframe><style>body{display:none}</style>\n\n**grassetto**";
        let h = rendi_markdown(md);
        for vietato in [
            "<script",
            "javascript:",
            "onerror",
            "onclick",
            "<iframe",
            "<style",
            "<img",
        ] {
            assert!(!h.contains(vietato), "{vietato} in {h}");
        }
        assert!(
            h.contains("<h1>Titolo</h1>") && h.contains("<strong>grassetto</strong>"),
            "{h}"
        );
        assert!(h.contains("rel=\"noopener noreferrer nofollow\""), "{h}");
    }

    #[test]
    fn i_nomi_degli_allegati_sono_puliti() {
        assert_eq!(nome_allegato("../../etc/passwd"), "passwd");
        assert_eq!(nome_allegato("a\"b;\r\nc.pdf"), "abc.pdf");
        assert_eq!(nome_allegato(""), "allegato");
        assert_eq!(mime_tipo("Avviso.PDF"), "application/pdf");
        assert_eq!(mime_tipo("x.html"), "application/octet-stream");
    }
}

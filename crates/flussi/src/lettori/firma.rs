//! Signed files: unwrapping a CAdES (`.p7m`) envelope and verifying its signatures.
//!
//! A `.p7m` is a CMS `SignedData` (RFC 5652) that embeds the signed document. [`sbusta`] returns
//! the document and one [`Firma`] per signature found, so that the engine can then read the
//! document with the reader of its own container (CSV, ZIP, XLSX, JSON).
//!
//! What is accepted:
//! - encodings: DER (or BER, as OpenSSL reads it); PEM with any `-----BEGIN …-----` label
//!   (`PKCS7`, `CMS`, …); raw base64 of the DER, with or without line breaks, as some Italian
//!   signing tools produce;
//! - nested signatures (`.p7m.p7m`): when the signed content is itself a `SignedData` (in any of
//!   the encodings above) it is unwrapped again, up to [`MAX_LIVELLI`] envelopes in all;
//! - parallel signatures (several signers on the same envelope): every signer must verify.
//!
//! What is verified:
//! - always the integrity: `CMS_verify` checks, for every signer, the digest of the content
//!   against the signed attributes and the signature against the public key of the signer's
//!   certificate, which must be embedded in the envelope;
//! - with trust anchors (CA certificates: a directory, or one PEM/DER file), also the signer's
//!   certificate chain. A chain that does not reach an anchor does not refuse the file (its
//!   integrity was verified): the signature is reported as not backed by a trusted chain
//!   ([`Firma::attendibile`] `Some(false)`), and pages say plainly that the signer's identity is
//!   not verified. The chain is built by `X509_verify_cert` from the anchors plus the certificates embedded in
//!   the envelope, with three relaxations, all deliberate:
//!   - purpose `X509_PURPOSE_ANY`: qualified Italian certificates often carry only
//!     `nonRepudiation` and an extended key usage without `emailProtection`, which the default
//!     S/MIME purpose of `CMS_verify` refuses;
//!   - `X509_V_FLAG_NO_CHECK_TIME`: an expired (or not yet valid) certificate is not a chain
//!     error; the validity of the signer's certificate at the time of the check is reported in
//!     [`Firma::certificato_valido`] and the caller decides. Note that with this flag the validity
//!     periods of the intermediate and root certificates are not checked either;
//!   - `X509_V_FLAG_PARTIAL_CHAIN`: every certificate in the anchors directory is a trust anchor,
//!     also when it is an intermediate CA (trusted lists often publish intermediates).
//!
//! What is not verified: revocation (no CRL or OCSP), timestamps (CAdES-T and above are read as
//! CAdES-BES), the ESS signing-certificate attribute, and the signing time.

use std::fs;
use std::path::Path;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use chrono::{DateTime, Utc};
use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::nid::Nid;
use openssl::stack::Stack;
use openssl::x509::store::{X509Store, X509StoreBuilder};
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509, X509Name, X509NameRef, X509PurposeId, X509Ref, X509StoreContext};

use super::ErroreLettura;

/// Largest signed file accepted, in bytes (in any encoding).
pub const MAX_BYTE_FIRMATO: u64 = 300 * 1024 * 1024;

/// Most nested envelopes (`.p7m.p7m.p7m`).
pub const MAX_LIVELLI: usize = 3;

/// Largest file read from the trust anchors directory (a PEM bundle of a whole trusted list is
/// well below this).
const MAX_BYTE_ANCORA: u64 = 16 * 1024 * 1024;

/// Object identifier of CMS `SignedData` (1.2.840.113549.1.7.2), DER content octets.
const OID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];

/// The arc of the PKCS #7 / CMS content types (1.2.840.113549.1.7), DER content octets.
const ARCO_PKCS7: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07];

/// One signature of a signed file, as shown in the report.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Firma {
    /// The signer's name: the subject `commonName`, else `givenName` + `surname`.
    pub firmatario: Option<String>,
    /// The signer's tax code, from the subject `serialNumber` (`TINIT-…`, or the older `IT:…`)
    /// without the prefix; `None` when the certificate has no such attribute.
    pub codice_fiscale: Option<String>,
    /// The certificate issuer: its `commonName`, else its `organizationName`.
    pub emittente: Option<String>,
    /// Start of the certificate validity (notBefore), ISO 8601 UTC (`2024-01-31T09:00:00Z`).
    pub valido_dal: String,
    /// End of the certificate validity (notAfter), ISO 8601 UTC.
    pub valido_al: String,
    /// Whether the current time is within the certificate validity.
    pub certificato_valido: bool,
    /// Whether the signer's identity is backed by a trusted chain: `Some(true)` when the
    /// certificate chain verified against the trust anchors, `Some(false)` when it did not (a
    /// self-made certificate, an unknown certifier), `None` when no anchors are configured (the
    /// chain was not checked). Only `Some(true)` may be shown as a verified signer.
    pub attendibile: Option<bool>,
}

/// Whether a file is to be treated as signed: its name ends with `.p7m` (any case) or its
/// content looks like a CMS `SignedData` (DER, PEM or base64). Cheap: reads only the first bytes.
pub fn e_firmato(nome_file: &str, byte: &[u8]) -> bool {
    if nome_file.to_ascii_lowercase().ends_with(".p7m") {
        return true;
    }
    if tipo_contenuto(byte) == Some(OID_SIGNED_DATA) {
        return true;
    }
    let testo = senza_spazi_iniziali(byte);
    if testo.starts_with(b"-----BEGIN ") {
        return pem_corpo(testo)
            .and_then(testa_base64)
            .is_some_and(|testa| tipo_contenuto(&testa) == Some(OID_SIGNED_DATA));
    }
    testa_base64(testo).is_some_and(|testa| tipo_contenuto(&testa) == Some(OID_SIGNED_DATA))
}

/// Unwraps a signed file: returns the signed content and one [`Firma`] per signature, outermost
/// envelope first (signers of the same envelope in their order in the file).
///
/// `ancore` is a directory of trusted CA certificates (PEM or DER, any file name; files that are
/// not certificates are skipped), or one such file (a PEM bundle). With `Some`, every signer's
/// chain is verified against them and the outcome reported in [`Firma::attendibile`]; with
/// `None`, the chain is not checked. The signature itself always is.
///
/// Errors: [`ErroreLettura::Limite`] over [`MAX_BYTE_FIRMATO`]; [`ErroreLettura::Illeggibile`]
/// when the input is not CMS at all; [`ErroreLettura::Firma`] for everything that is CMS but
/// does not verify (tampered content, detached signature, not `SignedData`, too many nested
/// envelopes, unreadable anchors).
pub fn sbusta(byte: &[u8], ancore: Option<&Path>) -> Result<(Vec<u8>, Vec<Firma>), ErroreLettura> {
    if u64::try_from(byte.len()).map_or(true, |n| n > MAX_BYTE_FIRMATO) {
        return Err(ErroreLettura::Limite(format!(
            "il file firmato supera la dimensione massima consentita di {} MB",
            MAX_BYTE_FIRMATO / (1024 * 1024)
        )));
    }
    let Some(decodificato) = decodifica(byte, ARCO_PKCS7) else {
        return Err(ErroreLettura::Illeggibile(
            "il file non è una busta firmata CAdES (.p7m) leggibile".into(),
        ));
    };
    // Parsed once here and handed to the first layer (a large file is not parsed twice).
    let Ok(cms) = CmsContentInfo::from_der(decodificato.der(byte)) else {
        return Err(ErroreLettura::Illeggibile(
            "il file non è una busta firmata CAdES (.p7m) leggibile: la struttura CMS è danneggiata"
                .into(),
        ));
    };
    if tipo_contenuto(decodificato.der(byte)) != Some(OID_SIGNED_DATA) {
        return Err(errore_firma(
            "il file è una busta CMS ma non contiene un documento firmato (SignedData)",
        ));
    }
    let negozio = ancore.map(carica_ancore).transpose()?;

    let mut firme = Vec::new();
    let (mut contenuto, firme_livello) =
        sbusta_livello(decodificato.der(byte), cms, negozio.as_ref())?;
    firme.extend(firme_livello);
    for _ in 1..MAX_LIVELLI {
        match decodifica(&contenuto, OID_SIGNED_DATA) {
            None => return Ok((contenuto, firme)),
            Some(interno) => {
                let der = match interno {
                    Decodificato::Der => contenuto,
                    Decodificato::Testo(der) => der,
                };
                // The inner content looked like a SignedData: if OpenSSL cannot parse it, the
                // inner envelope is damaged (not a document that happens to look like one).
                let cms = CmsContentInfo::from_der(&der).map_err(|_| {
                    errore_firma("la busta firmata interna (firma annidata) è danneggiata")
                })?;
                let (interno, firme_livello) = sbusta_livello(&der, cms, negozio.as_ref())?;
                contenuto = interno;
                firme.extend(firme_livello);
            }
        }
    }
    if decodifica(&contenuto, OID_SIGNED_DATA).is_some() {
        return Err(errore_firma(&format!(
            "il file contiene più di {MAX_LIVELLI} firme annidate una dentro l'altra"
        )));
    }
    Ok((contenuto, firme))
}

fn errore_firma(messaggio: &str) -> ErroreLettura {
    ErroreLettura::Firma(messaggio.to_owned())
}

/// Verifies one envelope (`der`, already parsed by OpenSSL as `cms`) and returns its content
/// and its signatures.
fn sbusta_livello(
    der: &[u8],
    mut cms: CmsContentInfo,
    negozio: Option<&X509Store>,
) -> Result<(Vec<u8>, Vec<Firma>), ErroreLettura> {
    let danneggiata = || errore_firma("la busta firmata è danneggiata e non può essere verificata");

    // The structure (embedded certificates, signer identifiers) is read from the DER. An input
    // with indefinite lengths (BER, from streaming signers) is first re-encoded by OpenSSL.
    let riencodificato;
    let struttura = match analizza(der) {
        Some(s) => s,
        None => {
            riencodificato = cms.to_der().map_err(|_| danneggiata())?;
            analizza(&riencodificato).ok_or_else(danneggiata)?
        }
    };
    if !struttura.contenuto_presente {
        return Err(errore_firma(
            "la firma è separata dal documento (firma detached): il file non contiene il documento firmato",
        ));
    }
    if struttura.firmatari.is_empty() {
        return Err(errore_firma("la busta non contiene alcuna firma"));
    }

    // Integrity: digest and signature of every signer. NOVERIFY skips only the certificate
    // chain (checked below, against our anchors and with our relaxations); BINARY keeps the
    // content byte for byte (no MIME text handling).
    let mut contenuto = Vec::new();
    cms.verify(
        None,
        None,
        None,
        Some(&mut contenuto),
        CMSOptions::NOVERIFY | CMSOptions::BINARY,
    )
    .map_err(|_| {
        errore_firma(
            "la firma non è valida: il documento è stato modificato dopo la firma oppure la firma è danneggiata",
        )
    })?;

    let certificati: Vec<X509> = struttura
        .certificati
        .iter()
        .filter_map(|c| X509::from_der(c).ok())
        .collect();
    let mut catena = Stack::new().map_err(|_| danneggiata())?;
    for c in &certificati {
        catena.push(c.clone()).map_err(|_| danneggiata())?;
    }

    let adesso = Utc::now();
    let mut firme = Vec::with_capacity(struttura.firmatari.len());
    for sid in &struttura.firmatari {
        let certificato = certificati
            .iter()
            .find(|c| sid.identifica(c))
            .ok_or_else(|| {
                errore_firma("il certificato del firmatario non è contenuto nella busta firmata")
            })?;
        let attendibile = match negozio {
            None => None,
            Some(negozio) => Some(verifica_catena(negozio, certificato, &catena)?),
        };
        firme.push(descrivi(certificato, adesso, attendibile)?);
    }
    Ok((contenuto, firme))
}

/// Whether the signer's certificate chain verifies against the anchors (see the module doc for
/// the flags set on the store). An error only when the check itself cannot run.
fn verifica_catena(
    negozio: &X509Store,
    certificato: &X509Ref,
    catena: &Stack<X509>,
) -> Result<bool, ErroreLettura> {
    let non_verificabile =
        || errore_firma("non è stato possibile verificare il certificato del firmatario");
    let mut contesto = X509StoreContext::new().map_err(|_| non_verificabile())?;
    contesto
        .init(negozio, certificato, catena, |c| c.verify_cert())
        .map_err(|_| non_verificabile())
}

/// Checks a trust anchors setting (a directory, or one PEM/DER file) and tells how many CA
/// certificates it holds; a server checks it when it starts, so that a wrong path is found
/// then, not on the first signed file.
pub fn conta_ancore(percorso: &Path) -> Result<usize, ErroreLettura> {
    Ok(certificati_ancore(percorso)?.len())
}

/// Builds the trust store from every certificate found in `percorso` (a directory, or a file).
fn carica_ancore(percorso: &Path) -> Result<X509Store, ErroreLettura> {
    let illeggibile = || {
        errore_firma(&format!(
            "impossibile leggere le autorità di certificazione riconosciute ({})",
            percorso.display()
        ))
    };
    let mut costruttore = X509StoreBuilder::new().map_err(|_| illeggibile())?;
    costruttore
        .set_flags(X509VerifyFlags::NO_CHECK_TIME | X509VerifyFlags::PARTIAL_CHAIN)
        .map_err(|_| illeggibile())?;
    costruttore
        .set_purpose(X509PurposeId::ANY)
        .map_err(|_| illeggibile())?;
    for c in certificati_ancore(percorso)? {
        // A duplicate is not an error worth refusing the whole directory for.
        let _ = costruttore.add_cert(c);
    }
    Ok(costruttore.build())
}

/// The certificates of an anchors setting: every file of a directory (not recursive; files
/// that are not certificates are skipped), or the one file given.
fn certificati_ancore(percorso: &Path) -> Result<Vec<X509>, ErroreLettura> {
    let illeggibile = || {
        errore_firma(&format!(
            "impossibile leggere le autorità di certificazione riconosciute ({})",
            percorso.display()
        ))
    };
    let meta = fs::metadata(percorso).map_err(|_| illeggibile())?;
    let file: Vec<std::path::PathBuf> = if meta.is_dir() {
        fs::read_dir(percorso)
            .map_err(|_| illeggibile())?
            .flatten()
            .map(|v| v.path())
            .collect()
    } else {
        vec![percorso.to_path_buf()]
    };
    let mut tutti = Vec::new();
    for percorso in file {
        // `fs::metadata` follows symbolic links (c_rehash-style directories are made of them).
        let Ok(meta) = fs::metadata(&percorso) else {
            continue;
        };
        if !meta.is_file() || meta.len() > MAX_BYTE_ANCORA {
            continue;
        }
        let Ok(byte) = fs::read(&percorso) else {
            continue;
        };
        if byte.windows(11).any(|w| w == b"-----BEGIN ") {
            tutti.extend(X509::stack_from_pem(&byte).unwrap_or_default());
        } else if let Ok(c) = X509::from_der(&byte) {
            tutti.push(c);
        }
    }
    Ok(tutti)
}

/// The report fields of a signer's certificate.
fn descrivi(
    certificato: &X509Ref,
    adesso: DateTime<Utc>,
    attendibile: Option<bool>,
) -> Result<Firma, ErroreLettura> {
    let date_illeggibili =
        || errore_firma("le date di validità del certificato del firmatario sono illeggibili");
    let dal = data_utc(certificato.not_before()).ok_or_else(date_illeggibili)?;
    let al = data_utc(certificato.not_after()).ok_or_else(date_illeggibili)?;
    let soggetto = certificato.subject_name();
    let firmatario = voce(soggetto, Nid::COMMONNAME).or_else(|| {
        let nome = [voce(soggetto, Nid::GIVENNAME), voce(soggetto, Nid::SURNAME)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        (!nome.is_empty()).then_some(nome)
    });
    let codice_fiscale = voce(soggetto, Nid::SERIALNUMBER).and_then(|s| {
        let s = s.trim();
        let resto = ["TINIT-", "IT:"].iter().find_map(|prefisso| {
            s.get(..prefisso.len())
                .filter(|p| p.eq_ignore_ascii_case(prefisso))
                .and_then(|_| s.get(prefisso.len()..))
        })?;
        let resto = resto.trim().to_ascii_uppercase();
        (!resto.is_empty()).then_some(resto)
    });
    let emittente = voce(certificato.issuer_name(), Nid::COMMONNAME)
        .or_else(|| voce(certificato.issuer_name(), Nid::ORGANIZATIONNAME));
    Ok(Firma {
        firmatario,
        codice_fiscale,
        emittente,
        valido_dal: formato_iso(dal),
        valido_al: formato_iso(al),
        certificato_valido: dal <= adesso && adesso <= al,
        attendibile,
    })
}

/// The first non-empty value of a name attribute, trimmed.
fn voce(nome: &X509NameRef, nid: Nid) -> Option<String> {
    nome.entries_by_nid(nid)
        .filter_map(|e| e.data().to_string().ok())
        .map(|s| s.trim().to_owned())
        .find(|s| !s.is_empty())
}

fn data_utc(tempo: &Asn1TimeRef) -> Option<DateTime<Utc>> {
    let epoca = Asn1Time::from_unix(0).ok()?;
    let differenza = epoca.diff(tempo).ok()?;
    let secondi = i64::from(differenza.days)
        .checked_mul(86_400)?
        .checked_add(i64::from(differenza.secs))?;
    DateTime::from_timestamp(secondi, 0)
}

fn formato_iso(data: DateTime<Utc>) -> String {
    data.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

// --- Encodings ---------------------------------------------------------------------------------

/// Where the DER of an envelope is.
enum Decodificato {
    /// The input itself is DER (or BER).
    Der,
    /// The input was PEM or base64: the decoded DER.
    Testo(Vec<u8>),
}

impl Decodificato {
    fn der<'a>(&'a self, originale: &'a [u8]) -> &'a [u8] {
        match self {
            Decodificato::Der => originale,
            Decodificato::Testo(der) => der,
        }
    }
}

/// Finds a CMS `ContentInfo` whose content type starts with `tipo` (the whole PKCS #7 arc, or
/// exactly `SignedData`) in DER, PEM or base64. Only the header is checked, not the whole
/// structure: `None` means "not CMS".
fn decodifica(byte: &[u8], tipo: &[u8]) -> Option<Decodificato> {
    let adatto = |der: &[u8]| tipo_contenuto(der).is_some_and(|t| t.starts_with(tipo));
    if adatto(byte) {
        return Some(Decodificato::Der);
    }
    let testo = senza_spazi_iniziali(byte);
    let corpo = if testo.starts_with(b"-----BEGIN ") {
        pem_corpo(testo)?
    } else {
        testo
    };
    // Decode the first characters before the whole text, so that a large text file that is not
    // base64 of a CMS (a CSV, say) is rejected without being copied.
    if !testa_base64(corpo).is_some_and(|testa| adatto(&testa)) {
        return None;
    }
    let der = base64_intero(corpo)?;
    adatto(&der).then_some(Decodificato::Testo(der))
}

/// The content type of a CMS `ContentInfo` (the OID content octets), reading only its header:
/// `SEQUENCE { OBJECT IDENTIFIER 1.2.840.113549.1.7.x, … }`. Tolerates a truncated input.
fn tipo_contenuto(byte: &[u8]) -> Option<&[u8]> {
    let (tag, _, testa) = intestazione(byte)?;
    if tag != 0x30 {
        return None;
    }
    let tipo = tlv(byte.get(testa..)?)?;
    (tipo.tag == 0x06
        && tipo.valore.len() == OID_SIGNED_DATA.len()
        && tipo.valore.starts_with(ARCO_PKCS7))
    .then_some(tipo.valore)
}

/// Skips leading ASCII whitespace and a UTF-8 byte order mark.
fn senza_spazi_iniziali(byte: &[u8]) -> &[u8] {
    let byte = byte.strip_prefix(b"\xef\xbb\xbf").unwrap_or(byte);
    let inizio = byte
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(byte.len());
    byte.get(inizio..).unwrap_or_default()
}

/// The base64 body of a PEM block (between the `BEGIN` line and the `-----END` line).
fn pem_corpo(testo: &[u8]) -> Option<&[u8]> {
    let fine_riga = testo.iter().position(|&b| b == b'\n')?;
    let resto = testo.get(fine_riga + 1..)?;
    let fine = resto
        .windows(8)
        .position(|w| w == b"-----END")
        .unwrap_or(resto.len());
    resto.get(..fine)
}

fn motore_base64() -> GeneralPurpose {
    GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    )
}

fn carattere_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='
}

/// Decodes the first 64 base64 characters (whitespace ignored); `None` if a character before
/// them is not base64.
fn testa_base64(testo: &[u8]) -> Option<Vec<u8>> {
    let mut testa = Vec::with_capacity(64);
    for &b in testo {
        if b.is_ascii_whitespace() {
            continue;
        }
        if !carattere_base64(b) {
            return None;
        }
        testa.push(b);
        if testa.len() == 64 {
            break;
        }
    }
    let utili = testa.len() / 4 * 4;
    motore_base64().decode(testa.get(..utili)?).ok()
}

/// Decodes a whole base64 text, line breaks and other whitespace ignored.
fn base64_intero(testo: &[u8]) -> Option<Vec<u8>> {
    let pulito: Vec<u8> = testo
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    motore_base64().decode(pulito).ok()
}

// --- Minimal DER reading -----------------------------------------------------------------------
//
// OpenSSL verifies; this only locates, in a `SignedData`, the embedded certificates and the
// signer identifiers (the `openssl` crate does not expose `CMS_get0_signers`). Definite lengths
// only: an indefinite-length input is re-encoded to DER by OpenSSL first.

/// One DER element.
struct Tlv<'a> {
    tag: u8,
    /// The content octets.
    valore: &'a [u8],
    /// The whole element (tag, length and content).
    intero: &'a [u8],
    /// What follows the element.
    resto: &'a [u8],
}

/// Tag, length (`None` if indefinite) and header size of the element at the start of `byte`.
fn intestazione(byte: &[u8]) -> Option<(u8, Option<usize>, usize)> {
    let tag = *byte.first()?;
    if tag & 0x1f == 0x1f {
        return None; // high tag numbers: not used by CMS
    }
    let primo = *byte.get(1)?;
    if primo < 0x80 {
        return Some((tag, Some(usize::from(primo)), 2));
    }
    if primo == 0x80 {
        return Some((tag, None, 2));
    }
    let n = usize::from(primo & 0x7f);
    if n > std::mem::size_of::<usize>() {
        return None;
    }
    let mut lunghezza: usize = 0;
    for i in 0..n {
        lunghezza = lunghezza
            .checked_mul(256)?
            .checked_add(usize::from(*byte.get(2 + i)?))?;
    }
    Some((tag, Some(lunghezza), 2 + n))
}

/// The element at the start of `byte`, which must lie entirely within it.
fn tlv(byte: &[u8]) -> Option<Tlv<'_>> {
    let (tag, lunghezza, testa) = intestazione(byte)?;
    let fine = testa.checked_add(lunghezza?)?;
    let intero = byte.get(..fine)?;
    Some(Tlv {
        tag,
        valore: intero.get(testa..)?,
        intero,
        resto: byte.get(fine..)?,
    })
}

/// The elements of a `SEQUENCE`/`SET` content, in order; `None` if one is malformed.
fn elementi(mut byte: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut elementi = Vec::new();
    while !byte.is_empty() {
        let e = tlv(byte)?;
        byte = e.resto;
        elementi.push(e);
    }
    Some(elementi)
}

/// How a `SignerInfo` names its certificate.
enum Identificativo<'a> {
    /// `issuerAndSerialNumber`: the issuer `Name` (whole DER) and the serial number (INTEGER
    /// content octets).
    EmittenteSeriale {
        emittente: &'a [u8],
        seriale: &'a [u8],
    },
    /// `subjectKeyIdentifier`.
    ChiaveSoggetto(&'a [u8]),
}

impl Identificativo<'_> {
    fn identifica(&self, certificato: &X509Ref) -> bool {
        match self {
            Identificativo::EmittenteSeriale { emittente, seriale } => {
                let Ok(emittente) = X509Name::from_der(emittente) else {
                    return false;
                };
                let stesso_emittente = emittente
                    .try_cmp(certificato.issuer_name())
                    .is_ok_and(|o| o.is_eq());
                // Compared as OpenSSL does (`ASN1_INTEGER_cmp`, sign included), so that the
                // certificate described is the one OpenSSL verified the signature with. Negative
                // serial numbers (never valid) match nothing.
                let Ok(numero) = certificato.serial_number().to_bn() else {
                    return false;
                };
                if numero.is_negative() || seriale.first().is_some_and(|&b| b & 0x80 != 0) {
                    return false;
                }
                let seriale = seriale
                    .iter()
                    .position(|&b| b != 0)
                    .and_then(|i| seriale.get(i..))
                    .unwrap_or_default();
                stesso_emittente && numero.to_vec() == seriale
            }
            Identificativo::ChiaveSoggetto(chiave) => certificato
                .subject_key_id()
                .is_some_and(|id| id.as_slice() == *chiave),
        }
    }
}

/// What is needed from a `SignedData` besides what OpenSSL verifies.
struct Struttura<'a> {
    /// Whether the encapsulated content is present (not a detached signature).
    contenuto_presente: bool,
    /// The embedded X.509 certificates (whole DER).
    certificati: Vec<&'a [u8]>,
    /// One identifier per `SignerInfo`, in order.
    firmatari: Vec<Identificativo<'a>>,
}

/// Reads `ContentInfo { signedData, [0] SignedData { version, digestAlgorithms,
/// encapContentInfo, [0] certificates OPTIONAL, [1] crls OPTIONAL, signerInfos } }`.
fn analizza(der: &[u8]) -> Option<Struttura<'_>> {
    let info = tlv(der)?;
    let mut campi = elementi(info.valore)?.into_iter();
    let tipo = campi.next()?;
    if tipo.tag != 0x06 || tipo.valore != OID_SIGNED_DATA {
        return None;
    }
    let esplicito = campi.next()?;
    if esplicito.tag != 0xa0 {
        return None;
    }
    let dati = tlv(esplicito.valore)?;
    if dati.tag != 0x30 {
        return None;
    }
    let mut campi = elementi(dati.valore)?.into_iter();
    let versione = campi.next()?;
    let algoritmi = campi.next()?;
    let incapsulato = campi.next()?;
    if versione.tag != 0x02 || algoritmi.tag != 0x31 || incapsulato.tag != 0x30 {
        return None;
    }
    let tipo_incapsulato = tlv(incapsulato.valore)?;
    let contenuto_presente = tlv(tipo_incapsulato.resto).is_some_and(|c| c.tag == 0xa0);

    let mut certificati = Vec::new();
    let mut firmatari = Vec::new();
    let mut firme_trovate = false;
    for campo in campi {
        match campo.tag {
            0xa0 => certificati.extend(
                elementi(campo.valore)?
                    .into_iter()
                    .filter(|c| c.tag == 0x30) // other CertificateChoices are not X.509
                    .map(|c| c.intero),
            ),
            0xa1 => {} // CRLs
            0x31 => {
                for info_firma in elementi(campo.valore)? {
                    firmatari.push(identificativo(&info_firma)?);
                }
                firme_trovate = true;
            }
            _ => return None,
        }
    }
    firme_trovate.then_some(Struttura {
        contenuto_presente,
        certificati,
        firmatari,
    })
}

/// The `sid` of a `SignerInfo { version, sid, … }`.
fn identificativo<'a>(info_firma: &Tlv<'a>) -> Option<Identificativo<'a>> {
    if info_firma.tag != 0x30 {
        return None;
    }
    let versione = tlv(info_firma.valore)?;
    let sid = tlv(versione.resto)?;
    match sid.tag {
        0x30 => {
            let emittente = tlv(sid.valore)?;
            let seriale = tlv(emittente.resto)?;
            (emittente.tag == 0x30 && seriale.tag == 0x02).then_some(
                Identificativo::EmittenteSeriale {
                    emittente: emittente.intero,
                    seriale: seriale.valore,
                },
            )
        }
        0x80 => Some(Identificativo::ChiaveSoggetto(sid.valore)),
        _ => None,
    }
}

impl Firma {
    /// The signer in one line: name and tax code when known, as the certificate states them
    /// (verified or not: see [`Firma::verifica`]).
    pub fn descrizione(&self) -> String {
        match (&self.firmatario, &self.codice_fiscale) {
            (Some(n), Some(cf)) => format!("{n} ({cf})"),
            (Some(n), None) => n.clone(),
            (None, Some(cf)) => cf.clone(),
            (None, None) => "firmatario non indicato".into(),
        }
    }

    /// What a person may conclude from the signature, in one plain Italian sentence: the signer
    /// is named as verified only when the chain reached a trust anchor.
    pub fn verifica(&self) -> String {
        match self.attendibile {
            Some(true) => format!("Firmato da {} (certificato verificato)", self.descrizione()),
            Some(false) => format!(
                "Firma valida, ma l'identità del firmatario NON è verificata: il certificato non proviene da un certificatore riconosciuto (il certificato dichiara: {})",
                self.descrizione()
            ),
            None => format!(
                "Firma valida, ma l'identità del firmatario NON è verificata: il server non ha certificatori riconosciuti configurati (il certificato dichiara: {})",
                self.descrizione()
            ),
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use std::path::PathBuf;
    use std::process::Command;
    use std::sync::OnceLock;

    /// The signed document: CRLF line ends and non-ASCII UTF-8, to prove the content is returned
    /// byte for byte.
    const CSV: &[u8] = b"id;nome;citt\xc3\xa0\r\n1;Niccol\xc3\xb2;Roma\r\n2;Luigi;Milano\r\n";

    const SOGGETTO_MARIO: &str =
        "/CN=Mario Rossi/serialNumber=TINIT-RSSMRA80A01H501U/GN=Mario/SN=Rossi/C=IT";

    fn openssl(cartella: &Path, argomenti: &[&str]) {
        let uscita = Command::new("openssl")
            .args(argomenti)
            .current_dir(cartella)
            .output()
            .expect("the openssl command line must be installed");
        assert!(
            uscita.status.success(),
            "openssl {argomenti:?}: {}",
            String::from_utf8_lossy(&uscita.stderr)
        );
    }

    /// Certificates, keys and signed files, made once per test run by the `openssl` command line.
    fn cartella() -> &'static Path {
        static CARTELLA: OnceLock<PathBuf> = OnceLock::new();
        CARTELLA.get_or_init(prepara)
    }

    fn leggi(nome: &str) -> Vec<u8> {
        fs::read(cartella().join(nome)).unwrap()
    }

    /// The folder lives as long as the test process (a static is never dropped), so each run
    /// first sweeps away the folders of earlier runs whose process has ended.
    fn prepara() -> PathBuf {
        const PREFISSO: &str = "dev-p7m-test-";
        let tmp = std::env::temp_dir();
        // Where /proc cannot tell which processes live, nothing is swept.
        let con_proc = Path::new("/proc/self").exists();
        for voce in fs::read_dir(&tmp)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|_| con_proc)
        {
            let nome = voce.file_name();
            let finito = nome
                .to_str()
                .and_then(|n| n.strip_prefix(PREFISSO))
                .and_then(|pid| pid.parse::<u32>().ok())
                .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
            if finito {
                let _ = fs::remove_dir_all(voce.path());
            }
        }
        let d = tmp.join(format!("{PREFISSO}{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("data.csv"), CSV).unwrap();

        // The CA, and an unrelated one.
        for (nome, soggetto) in [
            ("ca", "/CN=CA di Prova/O=Ente di Prova/C=IT"),
            ("altra-ca", "/CN=Altra CA/C=IT"),
        ] {
            openssl(
                &d,
                &[
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-keyout",
                    &format!("{nome}.key"),
                    "-out",
                    &format!("{nome}.pem"),
                    "-days",
                    "3650",
                    "-subj",
                    soggetto,
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign",
                ],
            );
        }

        // The signer, issued by the CA. Like many qualified Italian certificates it has only
        // nonRepudiation, and an extended key usage without emailProtection: the default S/MIME
        // purpose of OpenSSL refuses it, so the anchors tests also prove the purpose relaxation.
        openssl(
            &d,
            &[
                "req",
                "-new",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "firmatario.key",
                "-out",
                "firmatario.csr",
                "-subj",
                SOGGETTO_MARIO,
            ],
        );
        fs::write(
            d.join("firmatario.cnf"),
            "basicConstraints=CA:FALSE\nkeyUsage=critical,nonRepudiation\nextendedKeyUsage=clientAuth\n\
             subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
        )
        .unwrap();
        openssl(
            &d,
            &[
                "x509",
                "-req",
                "-in",
                "firmatario.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "firmatario.pem",
                "-days",
                "365",
                "-extfile",
                "firmatario.cnf",
            ],
        );

        // The same signer with a certificate that expired in 2021 (`openssl ca` sets the dates).
        fs::create_dir_all(d.join("db")).unwrap();
        fs::write(d.join("db/index.txt"), "").unwrap();
        fs::write(d.join("db/serial"), "1000\n").unwrap();
        fs::write(
            d.join("ca.cnf"),
            "[ca]\ndefault_ca = prova\n[prova]\ndatabase = db/index.txt\nnew_certs_dir = db\n\
             serial = db/serial\ndefault_md = sha256\npolicy = tutto\nunique_subject = no\n\
             x509_extensions = estensioni\n[tutto]\ncommonName = optional\nserialNumber = optional\n\
             givenName = optional\nsurname = optional\ncountryName = optional\n\
             [estensioni]\nbasicConstraints = CA:FALSE\nkeyUsage = critical,nonRepudiation\n",
        )
        .unwrap();
        openssl(
            &d,
            &[
                "ca",
                "-batch",
                "-config",
                "ca.cnf",
                "-cert",
                "ca.pem",
                "-keyfile",
                "ca.key",
                "-in",
                "firmatario.csr",
                "-out",
                "scaduto.pem",
                "-notext",
                "-startdate",
                "20200101000000Z",
                "-enddate",
                "20210101000000Z",
            ],
        );

        // A second, self-signed signer with no commonName, no serialNumber and an issuer with
        // no commonName.
        openssl(
            &d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "anna.key",
                "-out",
                "anna.pem",
                "-days",
                "365",
                "-subj",
                "/GN=Anna/SN=Bianchi/O=Studio Bianchi/C=IT",
            ],
        );

        let firma = |ingresso: &str, uscita: &str, extra: &[&str]| {
            let mut argomenti = vec![
                "cms", "-sign", "-cades", "-binary", "-in", ingresso, "-out", uscita,
            ];
            argomenti.extend_from_slice(extra);
            openssl(&d, &argomenti);
        };
        let mario = ["-signer", "firmatario.pem", "-inkey", "firmatario.key"];
        let con = |altri: &[&'static str]| {
            [&["-nodetach", "-outform", "DER"], &mario[..], altri].concat()
        };

        firma("data.csv", "data.csv.p7m", &con(&[]));
        firma(
            "data.csv",
            "data-pem.csv.p7m",
            &[&["-nodetach", "-outform", "PEM"], &mario[..]].concat(),
        );
        firma(
            "data.csv",
            "separata.p7s",
            &[&["-outform", "DER"], &mario[..]].concat(),
        );
        firma("data.csv", "keyid.csv.p7m", &con(&["-keyid"]));
        // Indefinite lengths (BER), as streaming signers write them.
        firma("data.csv", "stream.csv.p7m", &con(&["-stream"]));
        firma(
            "data.csv",
            "scaduta.csv.p7m",
            &[
                "-nodetach",
                "-outform",
                "DER",
                "-signer",
                "scaduto.pem",
                "-inkey",
                "firmatario.key",
            ],
        );
        firma(
            "data.csv",
            "parallele.csv.p7m",
            &con(&["-signer", "anna.pem", "-inkey", "anna.key"]),
        );
        firma("data.csv.p7m", "data.csv.p7m.p7m", &con(&[]));
        firma("data.csv.p7m.p7m", "data.csv.p7m.p7m.p7m", &con(&[]));
        firma(
            "data.csv.p7m.p7m.p7m",
            "data.csv.p7m.p7m.p7m.p7m",
            &con(&[]),
        );
        openssl(
            &d,
            &["base64", "-in", "data.csv.p7m", "-out", "data.csv.p7m.b64"],
        );
        firma("data.csv.p7m.b64", "annidata-b64.p7m", &con(&[]));
        // A signed file whose content is a truncated (damaged) envelope.
        let der = fs::read(d.join("data.csv.p7m")).unwrap();
        fs::write(d.join("troncata.p7m"), &der[..der.len() / 2]).unwrap();
        firma("troncata.p7m", "interna-danneggiata.p7m", &con(&[]));
        openssl(
            &d,
            &[
                "cms",
                "-data_create",
                "-binary",
                "-in",
                "data.csv",
                "-outform",
                "DER",
                "-out",
                "dati.p7m",
            ],
        );

        // Anchors: the CA in DER under an arbitrary name next to a file that is no certificate;
        // a PEM bundle with both CAs; the unrelated CA only.
        for sotto in ["ancore-der", "ancore-pem", "ancore-altra"] {
            fs::create_dir_all(d.join(sotto)).unwrap();
        }
        openssl(
            &d,
            &[
                "x509",
                "-in",
                "ca.pem",
                "-outform",
                "DER",
                "-out",
                "ancore-der/radice.cer",
            ],
        );
        fs::write(d.join("ancore-der/LEGGIMI.txt"), "non è un certificato").unwrap();
        let pacchetto = [
            fs::read(d.join("altra-ca.pem")).unwrap(),
            fs::read(d.join("ca.pem")).unwrap(),
        ]
        .concat();
        fs::write(d.join("ancore-pem/pacchetto.crt"), pacchetto).unwrap();
        fs::copy(d.join("altra-ca.pem"), d.join("ancore-altra/altra.pem")).unwrap();
        d
    }

    fn mario(attendibile: Option<bool>) -> Firma {
        let certificato = X509::from_pem(&leggi("firmatario.pem")).unwrap();
        Firma {
            firmatario: Some("Mario Rossi".into()),
            codice_fiscale: Some("RSSMRA80A01H501U".into()),
            emittente: Some("CA di Prova".into()),
            valido_dal: formato_iso(data_utc(certificato.not_before()).unwrap()),
            valido_al: formato_iso(data_utc(certificato.not_after()).unwrap()),
            certificato_valido: true,
            attendibile,
        }
    }

    fn errore_firma_con(esito: Result<(Vec<u8>, Vec<Firma>), ErroreLettura>, testo: &str) {
        match esito {
            Err(ErroreLettura::Firma(m)) => assert!(m.contains(testo), "message: {m}"),
            altro => panic!("expected a Firma error containing {testo:?}, got {altro:?}"),
        }
    }

    #[test]
    fn der() {
        let (contenuto, firme) = sbusta(&leggi("data.csv.p7m"), None).unwrap();
        assert_eq!(contenuto, CSV);
        assert_eq!(firme, vec![mario(None)]);
        let f = &firme[0];
        assert_eq!(f.valido_dal.len(), 20);
        assert!(f.valido_dal.ends_with('Z') && f.valido_dal.contains('T'));
        let dal = DateTime::parse_from_rfc3339(&f.valido_dal).unwrap();
        let al = DateTime::parse_from_rfc3339(&f.valido_al).unwrap();
        assert_eq!((al - dal).num_days(), 365);
    }

    #[test]
    fn pem_cms_e_pkcs7() {
        let pem = leggi("data-pem.csv.p7m");
        assert!(pem.starts_with(b"-----BEGIN CMS-----"));
        let esito = sbusta(&pem, None).unwrap();
        assert_eq!(esito, (CSV.to_vec(), vec![mario(None)]));
        let pkcs7 = String::from_utf8(pem)
            .unwrap()
            .replace("CMS-----", "PKCS7-----");
        let esito = sbusta(format!("\r\n{pkcs7}").as_bytes(), None).unwrap();
        assert_eq!(esito, (CSV.to_vec(), vec![mario(None)]));
    }

    #[test]
    fn base64_con_e_senza_a_capo() {
        let der = leggi("data.csv.p7m");
        let righe = leggi("data.csv.p7m.b64"); // openssl base64: 64 columns, LF
        assert!(righe.contains(&b'\n'));
        let motore = base64::engine::general_purpose::STANDARD;
        let una_riga = motore.encode(&der);
        let crlf = una_riga
            .as_bytes()
            .chunks(76)
            .map(|r| [r, b"\r\n"].concat())
            .collect::<Vec<_>>()
            .concat();
        let senza_padding = una_riga.trim_end_matches('=').to_owned();
        for testo in [
            righe,
            una_riga.into_bytes(),
            crlf,
            senza_padding.into_bytes(),
        ] {
            let esito = sbusta(&testo, None).unwrap();
            assert_eq!(esito, (CSV.to_vec(), vec![mario(None)]));
        }
    }

    #[test]
    fn annidate() {
        let (contenuto, firme) = sbusta(&leggi("data.csv.p7m.p7m"), None).unwrap();
        assert_eq!(contenuto, CSV);
        assert_eq!(firme, vec![mario(None); 2]);
        let (contenuto, firme) = sbusta(&leggi("data.csv.p7m.p7m.p7m"), None).unwrap();
        assert_eq!(contenuto, CSV);
        assert_eq!(firme, vec![mario(None); 3]);
        // The inner envelope is base64 text.
        let (contenuto, firme) = sbusta(&leggi("annidata-b64.p7m"), None).unwrap();
        assert_eq!(contenuto, CSV);
        assert_eq!(firme, vec![mario(None); 2]);
        // Also with anchors, every layer is checked.
        let (_, firme) = sbusta(
            &leggi("data.csv.p7m.p7m"),
            Some(&cartella().join("ancore-der")),
        )
        .unwrap();
        assert_eq!(firme, vec![mario(Some(true)); 2]);
    }

    #[test]
    fn troppo_annidate() {
        errore_firma_con(
            sbusta(&leggi("data.csv.p7m.p7m.p7m.p7m"), None),
            "più di 3 firme annidate",
        );
    }

    #[test]
    fn busta_interna_danneggiata() {
        errore_firma_con(
            sbusta(&leggi("interna-danneggiata.p7m"), None),
            "busta firmata interna (firma annidata) è danneggiata",
        );
    }

    #[test]
    fn contenuto_alterato() {
        let mut der = leggi("data.csv.p7m");
        let posizione = der.windows(5).position(|w| w == b"Luigi").unwrap();
        der[posizione] ^= 0x01;
        errore_firma_con(sbusta(&der, None), "la firma non è valida");
        // Also with anchors, and when the tampered envelope is the inner one.
        errore_firma_con(
            sbusta(&der, Some(&cartella().join("ancore-der"))),
            "la firma non è valida",
        );
        let mut doppia = leggi("data.csv.p7m.p7m");
        let posizione = doppia.windows(5).position(|w| w == b"Luigi").unwrap();
        doppia[posizione] ^= 0x01;
        errore_firma_con(sbusta(&doppia, None), "la firma non è valida");
    }

    #[test]
    fn ancore_riconosciute() {
        for sotto in ["ancore-der", "ancore-pem"] {
            let esito = sbusta(&leggi("data.csv.p7m"), Some(&cartella().join(sotto))).unwrap();
            assert_eq!(esito, (CSV.to_vec(), vec![mario(Some(true))]), "{sotto}");
        }
    }

    #[test]
    fn ancore_estranee() {
        // The content and the signature are intact: the file is read, but the signer is not
        // backed by a trusted chain.
        let esito = sbusta(
            &leggi("data.csv.p7m"),
            Some(&cartella().join("ancore-altra")),
        )
        .unwrap();
        assert_eq!(esito, (CSV.to_vec(), vec![mario(Some(false))]));
        assert!(
            mario(Some(false))
                .verifica()
                .starts_with("Firma valida, ma l'identità del firmatario NON è verificata: il certificato non proviene da un certificatore riconosciuto")
        );
        assert!(mario(None).verifica().contains("NON è verificata"));
        assert!(
            mario(Some(true))
                .verifica()
                .ends_with("(certificato verificato)")
        );
    }

    #[test]
    fn ancore_in_un_file() {
        let esito = sbusta(
            &leggi("data.csv.p7m"),
            Some(&cartella().join("ancore-pem/pacchetto.crt")),
        )
        .unwrap();
        assert_eq!(esito, (CSV.to_vec(), vec![mario(Some(true))]));
        assert!(conta_ancore(&cartella().join("ancore-pem/pacchetto.crt")).unwrap() >= 1);
        assert!(conta_ancore(&cartella().join("non-esiste")).is_err());
    }

    #[test]
    fn cartella_ancore_inesistente() {
        errore_firma_con(
            sbusta(&leggi("data.csv.p7m"), Some(&cartella().join("non-esiste"))),
            "impossibile leggere le autorità di certificazione riconosciute",
        );
    }

    #[test]
    fn certificato_scaduto() {
        let atteso = Firma {
            valido_dal: "2020-01-01T00:00:00Z".into(),
            valido_al: "2021-01-01T00:00:00Z".into(),
            certificato_valido: false,
            ..mario(None)
        };
        let (contenuto, firme) = sbusta(&leggi("scaduta.csv.p7m"), None).unwrap();
        assert_eq!(contenuto, CSV);
        assert_eq!(firme, vec![atteso.clone()]);
        // With anchors the chain still verifies: time is not a chain error.
        let (_, firme) = sbusta(
            &leggi("scaduta.csv.p7m"),
            Some(&cartella().join("ancore-der")),
        )
        .unwrap();
        assert_eq!(
            firme,
            vec![Firma {
                attendibile: Some(true),
                ..atteso
            }]
        );
    }

    #[test]
    fn firma_separata() {
        errore_firma_con(sbusta(&leggi("separata.p7s"), None), "firma detached");
    }

    #[test]
    fn identificativo_per_chiave() {
        let esito = sbusta(
            &leggi("keyid.csv.p7m"),
            Some(&cartella().join("ancore-der")),
        )
        .unwrap();
        assert_eq!(esito, (CSV.to_vec(), vec![mario(Some(true))]));
    }

    #[test]
    fn ber_a_lunghezza_indefinita() {
        let ber = leggi("stream.csv.p7m");
        assert_eq!(&ber[..2], &[0x30, 0x80]);
        assert!(analizza(&ber).is_none());
        assert!(e_firmato("flusso.bin", &ber));
        let esito = sbusta(&ber, Some(&cartella().join("ancore-der"))).unwrap();
        assert_eq!(esito, (CSV.to_vec(), vec![mario(Some(true))]));
    }

    #[test]
    fn firme_parallele() {
        let (contenuto, firme) = sbusta(&leggi("parallele.csv.p7m"), None).unwrap();
        assert_eq!(contenuto, CSV);
        assert_eq!(firme.len(), 2);
        assert_eq!(firme[0], mario(None));
        assert_eq!(firme[1].firmatario.as_deref(), Some("Anna Bianchi"));
        assert_eq!(firme[1].codice_fiscale, None);
        assert_eq!(firme[1].emittente.as_deref(), Some("Studio Bianchi"));
        assert!(firme[1].certificato_valido);
        // Anna's self-signed certificate is not under the anchors: Mario is verified, she is not.
        let (_, firme) = sbusta(
            &leggi("parallele.csv.p7m"),
            Some(&cartella().join("ancore-der")),
        )
        .unwrap();
        assert_eq!(firme[0], mario(Some(true)));
        assert_eq!(firme[1].attendibile, Some(false));
    }

    #[test]
    fn cms_non_firmato() {
        errore_firma_con(
            sbusta(&leggi("dati.p7m"), None),
            "non contiene un documento firmato",
        );
    }

    #[test]
    fn non_cms() {
        let mut stato: u32 = 0x1234_5678;
        let casuali: Vec<u8> = (0..4096)
            .map(|_| {
                stato = stato.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (stato >> 24) as u8
            })
            .collect();
        let der = leggi("data.csv.p7m");
        let troncato = der[..der.len() / 2].to_vec();
        let mut sequenza = vec![0x30, 0x82, 0x01, 0x00];
        sequenza.extend_from_slice(&casuali[..256]);
        for ingresso in [
            casuali,
            Vec::new(),
            CSV.to_vec(),
            troncato,
            sequenza,
            b"MIIabc==".to_vec(),
        ] {
            let esito = sbusta(&ingresso, None);
            assert!(
                matches!(esito, Err(ErroreLettura::Illeggibile(_))),
                "{esito:?}"
            );
        }
    }

    #[test]
    fn limite() {
        let enorme = vec![0u8; MAX_BYTE_FIRMATO as usize + 1];
        assert!(matches!(
            sbusta(&enorme, None),
            Err(ErroreLettura::Limite(_))
        ));
    }

    #[test]
    fn riconoscimento() {
        let der = leggi("data.csv.p7m");
        assert!(e_firmato("FLUSSO.CSV.P7M", b""));
        assert!(e_firmato("flusso.bin", &der));
        assert!(e_firmato("flusso.bin", &leggi("data-pem.csv.p7m")));
        assert!(e_firmato("flusso.bin", &leggi("data.csv.p7m.b64")));
        // Only the first bytes are needed (the caller passes the first 4 KiB).
        assert!(e_firmato("flusso", &der[..40]));
        assert!(e_firmato("flusso", &leggi("data-pem.csv.p7m")[..100]));
        assert!(e_firmato("flusso", &leggi("data.csv.p7m.b64")[..100]));
        assert!(!e_firmato("flusso.csv", CSV));
        assert!(!e_firmato("flusso.csv", b""));
        assert!(!e_firmato("flusso.p7", &leggi("dati.p7m")));
        assert!(!e_firmato("flusso.p7m.csv", b"MIIabc"));
    }
}

//! The integration suite: one test binary, through HTTP against the real router and a real
//! database. The backend comes from the environment:
//!
//! - `PUSH_TEST_DATABASE_URL=postgres://…` runs every test on PostgreSQL (a fresh database per
//!   test, created on that server). If the server does not answer, tests fail: never skipped.
//! - otherwise, SQLite (a fresh file per test).
//!
//! A test that needs one backend never returns early as passed: PostgreSQL-only tests are named
//! `solo_postgres…` and marked ignored when the suite is built for SQLite (`build.rs` sets
//! `cfg(prova_postgres)` from `PUSH_TEST_DATABASE_URL`).
//!
//! `.ci/run` runs the suite once per backend.

mod aiuto;

mod accesso;
mod api;
mod audit;
mod autorizzazioni;
mod avvio;
mod caricamento;
mod comunicazioni;
mod contabilita;
mod cruscotto;
mod csrf;
mod dati_pubblici;
mod demo;
mod documentazione;
mod firme;
mod flussi;
mod formule_csv;
mod fusione;
mod guasti;
mod igiene;
mod lavori;
mod monitoraggio;
mod ogc;
mod oidc;
mod orologio;
mod pagine;
mod posta;
mod posta_smtp;
mod processi;
mod registrazione;
mod registro;
mod ricerca;
mod richieste_malformate;
mod riservato;
mod smtp;
mod token;
mod validate;

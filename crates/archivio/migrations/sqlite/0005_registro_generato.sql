-- The register's tables and indexes are now generated from the domains' definitions
-- (`flussi::spec::registro`) by `Archivio::prepara_registro`, at start. Migration 0002 created
-- the `patrimonio` tables by hand; their columns are what the generator writes, and two of their
-- indexes get the generated names (`reg_<tabella>_<campo>`), so that the generator finds them and
-- does not build a second copy (each index slows the merge).
DROP INDEX IF EXISTS reg_unita_fabbricato;
CREATE INDEX IF NOT EXISTS reg_unita_codice_fabbricato ON reg_unita (ente, codice_fabbricato);
DROP INDEX IF EXISTS reg_fabbricati_comune;
CREATE INDEX IF NOT EXISTS reg_fabbricati_comune_istat ON reg_fabbricati (comune_istat);

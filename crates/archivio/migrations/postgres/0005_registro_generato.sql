-- The register's tables and indexes are now generated from the domains' definitions
-- (`flussi::spec::registro`) by `Archivio::prepara_registro`, at start. Migration 0002 created
-- the `patrimonio` tables by hand; their columns are what the generator writes, and two of their
-- indexes get the generated names (`reg_<tabella>_<campo>`), so that the generator finds them and
-- does not build a second copy (each index slows the merge).
ALTER INDEX IF EXISTS reg_unita_fabbricato RENAME TO reg_unita_codice_fabbricato;
ALTER INDEX IF EXISTS reg_fabbricati_comune RENAME TO reg_fabbricati_comune_istat;

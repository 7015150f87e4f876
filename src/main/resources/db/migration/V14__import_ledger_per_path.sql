-- The import ledger skips a file only when its content equals the LAST content applied from the
-- same path by the same job: a re-delivery, or a retry after a crash between the commit and the
-- file's move. V3 skipped any content applied before, so a file overwritten each period that
-- reverted (A, then B, then A again) was skipped on its third delivery and the target stayed at B
-- while the run succeeded.
--
-- Rows written before this migration have no path: the first delivery of each path afterwards is
-- applied even when it equals the last one (the merge then finds every row unchanged).
ALTER TABLE import_file DROP CONSTRAINT import_file_job_name_checksum_key;
ALTER TABLE import_file ADD COLUMN source_path text;
CREATE INDEX import_file_path_idx ON import_file (job_name, source_path, id);

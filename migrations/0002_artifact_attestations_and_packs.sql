ALTER TABLE `artifacts` ADD `attestation` text;--> statement-breakpoint
ALTER TABLE `artifacts` ADD `pack_sha256` text;--> statement-breakpoint
ALTER TABLE `artifacts` ADD `pack_offset` integer;
CREATE TABLE `artifacts` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`job_id` text NOT NULL,
	`path` text NOT NULL,
	`sha256` text NOT NULL,
	`size` integer NOT NULL,
	`mode` text NOT NULL,
	`chmod` text,
	`template_path` text NOT NULL,
	`template_hash` text NOT NULL,
	`dependencies` text NOT NULL,
	`attestation_sha256` text NOT NULL,
	`created_at` text NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`job_id`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `artifacts_job_path_unique` ON `artifacts` (`job_id`,`path`);--> statement-breakpoint
CREATE INDEX `artifacts_tenant_sha_idx` ON `artifacts` (`tenant_id`,`sha256`);--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`status` text NOT NULL,
	`lock` text NOT NULL,
	`lock_hash` text NOT NULL,
	`params` text NOT NULL,
	`dry_run` integer DEFAULT false NOT NULL,
	`total` integer DEFAULT 0 NOT NULL,
	`done` integer DEFAULT 0 NOT NULL,
	`skipped` integer DEFAULT 0 NOT NULL,
	`bytes` integer DEFAULT 0 NOT NULL,
	`error` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `jobs_tenant_idx` ON `jobs` (`tenant_id`,`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `signing_keys` (
	`tenant_id` text NOT NULL,
	`kid` text NOT NULL,
	`status` text NOT NULL,
	`public_jwk` text NOT NULL,
	`encrypted_private_key` text NOT NULL,
	`created_at` text NOT NULL,
	`retired_at` text,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `signing_keys_tenant_kid_unique` ON `signing_keys` (`tenant_id`,`kid`);--> statement-breakpoint
CREATE TABLE `templates` (
	`tenant_id` text NOT NULL,
	`generator` text NOT NULL,
	`path` text NOT NULL,
	`hash` text NOT NULL,
	`size` integer NOT NULL,
	`frontmatter` text NOT NULL,
	`variables` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `templates_tenant_generator_path_unique` ON `templates` (`tenant_id`,`generator`,`path`);
CREATE TABLE `job_batches` (
	`tenant_id` text NOT NULL,
	`job_id` text NOT NULL,
	`batch_key` text NOT NULL,
	`skipped` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `job_id`, `batch_key`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);

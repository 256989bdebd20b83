CREATE TABLE `generator_settings` (
	`tenant_id` text NOT NULL,
	`generator` text NOT NULL,
	`options` text NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `generator`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);

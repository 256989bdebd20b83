CREATE TABLE `maintenance_cursors` (
	`task` text PRIMARY KEY NOT NULL,
	`position` text NOT NULL,
	`updated_at` text NOT NULL
);

CREATE TABLE "settings_version" (
	"id" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"version" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "settings_version_single_row" CHECK ("settings_version"."id")
);

import { applyD1Migrations, env } from "cloudflare:test";

// Setup files run once per test file; applyD1Migrations only applies what is missing.
// Both sets, each tracked in its own table as wrangler.toml configures them; the
// platform's tables first, as a shared database has them before the scheduler comes.
await applyD1Migrations(env.DB, env.TEST_PLATFORM_MIGRATIONS, "d1_migrations_platform");
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

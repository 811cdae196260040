// Lambda entry point (placeholder while the core is wired; replaced by the lead).
export const handler = async (): Promise<{ ok: boolean }> => ({ ok: true });

// The whole site as a zip: exported as it is, or replaced by an imported one (a site, or a
// project as people zip them: server_py.workbench.project_files).

/** Download the site as `NAME.zip`. */
export async function exportSite(host, name) {
  const bytes = await host.call("export_zip");
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([bytes], { type: "application/zip" }));
  link.download = `${name}.zip`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

/**
 * Replace the site with the zip `file`, if the owner confirms; reload it. Resolves to true when
 * it was imported; throws an Error whose message is meant for the owner.
 */
export async function importSite(host, name, file) {
  if (!confirm(`Replace the whole site "${name}" with ${file.name}?`)) return false;
  await host.call("import_zip", new Uint8Array(await file.arrayBuffer()), file.name);
  await host.reload();
  return true;
}

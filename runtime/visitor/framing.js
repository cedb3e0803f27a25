// A visitor sees a site inside the client shell's iframe, on the site's own origin. A site that
// forbids being framed at all (`X-Frame-Options: DENY`, CSP `frame-ancestors 'none'`: Django's
// default, for one) would then show nothing. What it forbids is framing by other origins; its
// pages in the shell are framed by its own origin, so the shell lets them be framed by that
// origin only, as `SAMEORIGIN` and `'self'` say: every ancestor must still be the site's origin,
// so another site framing the shell gets nothing either.

/** `headers` ([[name, value]]) of a page shown in the shell's iframe, framing allowed to the
 * site's own origin where the site forbade it altogether. */
export function framedByShell(headers) {
  return headers.map(([name, value]) => {
    const lower = name.toLowerCase();
    if (lower === "x-frame-options" && value.trim().toLowerCase() === "deny")
      return [name, "SAMEORIGIN"];
    if (lower === "content-security-policy") {
      return [name, value.replace(/(frame-ancestors\s+)'none'/gi, "$1'self'")];
    }
    return [name, value];
  });
}

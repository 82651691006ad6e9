// What a package link's HTTP answer says of it, for a link the page says nothing about
// ("Send to my phone…" on a bare link): its MIME type, file name and size.

/** The file name in a Content-Disposition header (filename*=UTF-8''… first), or "". */
export function filenameFromDisposition(header) {
  const text = String(header || "");
  const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(text);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ""));
    } catch {
      // a badly encoded name: the plain one below may still be there
    }
  }
  const plain = /filename\s*=\s*("([^"]*)"|[^;]+)/.exec(text);
  if (!plain) return "";
  return (plain[2] ?? plain[1]).trim().split(/[\\/]/).pop();
}

/**
 * {mime, filename, totalBytes, finalUrl} from a fetch() Response: the file name from
 * Content-Disposition, else from the URL it was redirected to ("/download?id=3" -> ".../app-1.2.apk").
 */
export function linkFacts(response) {
  const { headers } = response;
  const length = Number(headers.get("Content-Length"));
  const finalUrl = response.redirected && response.url ? response.url : "";
  let filename = filenameFromDisposition(headers.get("Content-Disposition"));
  if (!filename && finalUrl) filename = decodeURIComponent(new URL(finalUrl).pathname.split("/").pop() || "");
  return {
    mime: headers.get("Content-Type") || "",
    filename,
    totalBytes: Number.isInteger(length) && length > 0 ? length : null,
    finalUrl,
  };
}

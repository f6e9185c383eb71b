import type { StoreContext } from '../context.js';

/** A template (or ISO) download one zone's secondary storage has to do. */
export interface DownloadTask {
  templateid: string;
  zoneid: string;
  url: string;
  format: string;
  checksum?: string;
  iso: boolean;
}

/**
 * The download queue of registered templates and ISOs: each (template, zone) entry registered with a
 * URL waits in NOT_DOWNLOADED until the storage component claims it (DOWNLOAD_IN_PROGRESS, atomically,
 * so two workers never fetch the same entry), reports progress, and ends DOWNLOADED (Ready) or
 * DOWNLOAD_ERROR with CloudStack's status text.
 */
export class TemplateDownloadRepository {
  constructor(private readonly ctx: StoreContext) {}

  /** Claims up to `limit` waiting downloads. */
  claim(limit: number): DownloadTask[] {
    return this.ctx.tx(() => {
      const rows = this.ctx.all<{ template_id: number; zone_id: number; uuid: string; z_uuid: string; url: string; format: string;
        checksum: string | null; is_iso: number }>(`SELECT tz.template_id, tz.zone_id, t.uuid, z.uuid AS z_uuid, t.url, t.format, t.checksum,
        t.is_iso FROM template_zone tz JOIN template t ON t.id = tz.template_id JOIN zone z ON z.id = tz.zone_id
        WHERE tz.download_state = 'NOT_DOWNLOADED' AND tz.is_ready = 0 AND t.removed IS NULL AND t.url IS NOT NULL
        ORDER BY tz.created LIMIT ?`, Math.max(0, Math.floor(limit)));
      const out: DownloadTask[] = [];
      for (const r of rows) {
        this.ctx.run(`UPDATE template_zone SET download_state = 'DOWNLOAD_IN_PROGRESS', status = '0% Downloaded'
          WHERE template_id = ? AND zone_id = ?`, r.template_id, r.zone_id);
        const task: DownloadTask = { templateid: r.uuid, zoneid: r.z_uuid, url: r.url, format: r.format, iso: r.is_iso === 1 };
        if (r.checksum !== null) task.checksum = r.checksum;
        out.push(task);
      }
      return out;
    });
  }

  /** Progress text (`42% Downloaded`) of a download in progress. */
  progress(templateid: string, zoneid: string, percent: number): void {
    this.ctx.run(`UPDATE template_zone SET status = ? WHERE download_state = 'DOWNLOAD_IN_PROGRESS'
      AND template_id = (SELECT id FROM template WHERE uuid = ?) AND zone_id = (SELECT id FROM zone WHERE uuid = ?)`,
    `${Math.max(0, Math.min(100, Math.floor(percent)))}% Downloaded`, templateid, zoneid);
  }

  /** The download finished and verified: the entry is Ready with its sizes (bytes). */
  complete(templateid: string, zoneid: string, sizes: { physicalsize: number; size: number }): void {
    this.ctx.tx(() => {
      this.ctx.run(`UPDATE template_zone SET download_state = 'DOWNLOADED', status = 'Download Complete', is_ready = 1, physical_size = ?
        WHERE template_id = (SELECT id FROM template WHERE uuid = ?) AND zone_id = (SELECT id FROM zone WHERE uuid = ?)`,
      sizes.physicalsize, templateid, zoneid);
      this.ctx.run('UPDATE template SET size = ? WHERE uuid = ?', sizes.size, templateid);
    });
  }

  /** The download failed (unreachable, bad status, too large, checksum mismatch): DOWNLOAD_ERROR with the reason. */
  fail(templateid: string, zoneid: string, reason: string): void {
    this.ctx.run(`UPDATE template_zone SET download_state = 'DOWNLOAD_ERROR', status = ?, is_ready = 0
      WHERE template_id = (SELECT id FROM template WHERE uuid = ?) AND zone_id = (SELECT id FROM zone WHERE uuid = ?)`,
    reason.slice(0, 1024), templateid, zoneid);
  }

  /**
   * Downloads a previous storage incarnation left in progress go back to the queue (a storage component
   * starting is the only worker: run this before claiming).
   */
  requeueInProgress(): number {
    return this.ctx.run(`UPDATE template_zone SET download_state = 'NOT_DOWNLOADED', status = 'Download Pending'
      WHERE download_state = 'DOWNLOAD_IN_PROGRESS'`).changes;
  }
}

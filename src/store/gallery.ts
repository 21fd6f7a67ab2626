/** The gallery slice: its entries, newest first (the images themselves are in IndexedDB). */
import type { StateCreator } from 'zustand';
import type { GalleryEntry } from '../storage/gallery-db';

export interface GallerySlice {
  gallery: GalleryEntry[];
  galleryListed: (entries: GalleryEntry[]) => void;
  galleryAdded: (entry: GalleryEntry) => void;
  galleryRemoved: (id: GalleryEntry['id']) => void;
}

export const createGallerySlice: StateCreator<GallerySlice, [], [], GallerySlice> = (set) => ({
  gallery: [],
  galleryListed: (gallery) => set({ gallery }),
  galleryAdded: (entry) => set((s) => ({ gallery: [entry, ...s.gallery] })),
  galleryRemoved: (id) => set((s) => ({ gallery: s.gallery.filter((e) => e.id !== id) })),
});
